//! Binding, serving until Ctrl-C or SIGTERM, and the start-up banner.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use tokio::net::TcpListener;

use crate::api::app;
use crate::state::{AppState, DEFAULT_PORT};

/// `127.0.0.1:4243`: loopback, so nothing off this machine can connect.
pub fn default_addr() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT))
}

/// Binds `addr`, warning when it is not a loopback address: the sidecar
/// runs commands, and Host checks alone should not be all that keeps the
/// network out.
pub async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    if !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "the sidecar is listening on a non-loopback address; other machines can connect (the token and Host checks still apply)"
        );
    }
    TcpListener::bind(addr).await
}

/// Binds `addr` and serves until Ctrl-C or SIGTERM, then stops every
/// running step.
pub async fn serve(state: AppState, addr: SocketAddr) -> io::Result<()> {
    let listener = bind(addr).await?;
    serve_on(state, listener, shutdown_signal()).await
}

/// Serves on a bound listener until `shutdown` completes: records the
/// listener's port for the Host check, ends the event streams (or graceful
/// shutdown would wait for them forever), then stops every running step.
pub async fn serve_on<F>(state: AppState, listener: TcpListener, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let addr = listener.local_addr()?;
    state.set_port(addr.port());
    tracing::info!(%addr, "course sidecar listening");
    let closing = state.shared.closing.clone();
    let result = axum::serve(listener, app(state.clone()))
        .with_graceful_shutdown(async move {
            shutdown.await;
            closing.send_replace(true);
        })
        .await;
    state.shutdown().await;
    result
}

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT) or, on Unix,
/// SIGTERM (`kill`, systemd, `docker stop`). Both servers of the course stop
/// on it, so either way the steps' process groups are stopped before exit.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// The name under which a link's URL fragment carries the token. A fragment
/// never reaches a server: not the book's host, not a proxy, not a log.
pub const TOKEN_FRAGMENT: &str = "course-token";

/// A link to the book that hands its pages the token: `book` (a page, or a
/// folder whose `progress.html` is the landing page) with
/// `#course-token=TOKEN`. Any fragment `book` had is replaced.
pub fn token_link(book: &str, token: &str) -> String {
    let book = book.split('#').next().unwrap_or(book);
    let page = if book.ends_with('/') {
        format!("{book}progress.html")
    } else {
        book.to_owned()
    };
    format!("{page}#{TOKEN_FRAGMENT}={token}")
}

/// What the CLI prints at start: where the sidecar listens and, like
/// Jupyter, a link that carries the token, here to the book (`book_url`),
/// whose pages keep it. It goes to the terminal, never to the log.
pub fn print_banner(addr: SocketAddr, token: &str, book_url: &str) -> String {
    // Host checks accept loopback names only, so that is the URL pages use.
    let ip = if addr.ip().is_loopback() {
        addr.ip()
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    };
    let base = format!("http://{}/", SocketAddr::new(ip, addr.port()));
    format!(
        "course sidecar listening on {base}\n\
         To connect the book's lab pages to it, open this link (its token lets a page run lab steps: keep it private):\n    \
         {}\n",
        token_link(book_url, token)
    )
}

/// Raises this process's soft limit on open files towards `wanted` (never
/// above the hard limit) and returns the soft limit in force afterwards.
/// Every event stream holds a socket: with a low default (256 on macOS) the
/// sidecar would run out of descriptors before its own watcher limit.
#[cfg(unix)]
pub fn raise_fd_limit(wanted: u64) -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    let current = now.current?;
    if current >= wanted {
        return Some(current);
    }
    let target = now.maximum.map_or(wanted, |max| wanted.min(max));
    if setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(target),
            maximum: now.maximum,
        },
    )
    .is_ok()
    {
        return Some(target);
    }
    Some(current)
}

/// Raises this process's soft limit on open files (not on this platform).
#[cfg(not(unix))]
pub fn raise_fd_limit(_wanted: u64) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_fd_limit_is_raised_within_the_hard_limit() {
        let limit = raise_fd_limit(512).expect("a limit");
        assert!(limit >= 256, "{limit}");
        assert_eq!(raise_fd_limit(16), Some(limit), "never lowered");
    }

    #[test]
    fn banner_links_the_book_with_the_token_in_the_fragment() {
        let text = print_banner(default_addr(), "abc123", "http://localhost:3000/");
        assert!(
            text.contains("listening on http://127.0.0.1:4243/\n"),
            "{text}"
        );
        assert!(
            text.contains("\n    http://localhost:3000/progress.html#course-token=abc123\n"),
            "{text}"
        );
        assert!(!text.contains("?token="), "never in the query: {text}");
        let v6 = print_banner(
            "[::1]:5555".parse().expect("addr"),
            "t",
            "https://b.example/c/",
        );
        assert!(v6.contains("on http://[::1]:5555/"), "{v6}");
        let any = print_banner(
            "0.0.0.0:5555".parse().expect("addr"),
            "t",
            "https://b.example/",
        );
        assert!(any.contains("on http://127.0.0.1:5555/"), "{any}");
    }

    #[test]
    fn token_links_land_on_a_page_and_replace_any_fragment() {
        assert_eq!(
            token_link("https://b.example/mlops-course/", "t"),
            "https://b.example/mlops-course/progress.html#course-token=t"
        );
        assert_eq!(
            token_link("https://b.example/x/03-model-serving/index.html#lab", "t"),
            "https://b.example/x/03-model-serving/index.html#course-token=t"
        );
    }

    #[test]
    fn default_is_loopback() {
        assert!(default_addr().ip().is_loopback());
        assert_eq!(default_addr().port(), DEFAULT_PORT);
    }
}
