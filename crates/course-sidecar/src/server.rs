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

async fn shutdown_signal() {
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

/// What the CLI prints at start: where the sidecar listens and, like
/// Jupyter, a URL that carries the token. It goes to the terminal, never to
/// the log.
pub fn print_banner(addr: SocketAddr, token: &str) -> String {
    // Host checks accept loopback names only, so that is the URL to open.
    let ip = if addr.ip().is_loopback() {
        addr.ip()
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    };
    let base = format!("http://{}/", SocketAddr::new(ip, addr.port()));
    format!(
        "course sidecar listening on {base}\n\
         To connect the course's lab pages, open (keep the token private):\n    \
         {base}?token={token}\n"
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
    fn banner_carries_the_url_and_token() {
        let text = print_banner(default_addr(), "abc123");
        assert!(text.contains("http://127.0.0.1:4243/\n"), "{text}");
        assert!(
            text.contains("http://127.0.0.1:4243/?token=abc123"),
            "{text}"
        );
        let v6 = print_banner("[::1]:5555".parse().expect("addr"), "t");
        assert!(v6.contains("http://[::1]:5555/?token=t"), "{v6}");
        let any = print_banner("0.0.0.0:5555".parse().expect("addr"), "t");
        assert!(any.contains("http://127.0.0.1:5555/?token=t"), "{any}");
    }

    #[test]
    fn default_is_loopback() {
        assert!(default_addr().ip().is_loopback());
        assert_eq!(default_addr().port(), DEFAULT_PORT);
    }
}
