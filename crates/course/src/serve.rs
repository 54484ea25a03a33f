//! `course serve`: build, serve the site on 127.0.0.1, watch the sources,
//! rebuild on change and tell open pages to reload over a websocket.
//!
//! mdBook's own `serve` is not a library, so this is ours. Each rebuild goes
//! into a fresh folder; the server switches to it only when the build
//! succeeded, so a broken edit keeps the last good site up while the error
//! shows in the terminal and on every open page.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use notify::{RecursiveMode, Watcher};
use tokio::sync::broadcast;

use crate::build::build_into;
use crate::project::Project;

/// Default port of `course serve`: clashes with none of the labs' services
/// (Grafana/mdBook 3000, MLflow 5000, APIs 8000/8080, Streamlit 8501,
/// Jupyter 8888, Prometheus 9090, Alertmanager 9093).
pub const DEFAULT_PORT: u16 = 4242;

/// Path of the live-reload websocket.
pub const RELOAD_PATH: &str = "/__course/ws";

/// How long the sources must be quiet before a rebuild starts (editors
/// write a file in several steps).
const DEBOUNCE: Duration = Duration::from_millis(20);

/// What the server shares between requests, the watcher and rebuilds.
#[derive(Clone)]
pub struct ServeState {
    site: Arc<RwLock<PathBuf>>,
    error: Arc<RwLock<Option<String>>>,
    events: broadcast::Sender<String>,
    generation: Arc<AtomicU64>,
    work: PathBuf,
    /// The sidecar's router, answering `/api/...` on the same origin.
    sidecar: Router,
}

impl ServeState {
    /// The folder currently served.
    pub fn site(&self) -> PathBuf {
        self.site.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// The error of the last rebuild, if it failed.
    pub fn error(&self) -> Option<String> {
        self.error.read().ok().and_then(|e| e.clone())
    }

    /// Subscribes to the messages sent to pages (`{"type":"reload"}`, `{"type":"error",…}`).
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.events.subscribe()
    }
}

/// A running server, for tests and for `serve`.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state.
    pub state: ServeState,
    /// The sidecar mounted under `/api` (its token runs steps).
    pub sidecar: course_sidecar::AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    _watcher: notify::RecommendedWatcher,
}

impl Server {
    /// Stops the server and removes its build folders.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.sidecar.shutdown().await;
        let _ = (&mut self.task).await;
        let _ = std::fs::remove_dir_all(&self.state.work);
    }
}

/// Builds once, then serves and watches until Ctrl-C.
pub fn serve(project: Project, port: u16, open: bool) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let server = start(project, SocketAddr::from(([127, 0, 0, 1], port)), None).await?;
        let url = format!("http://{}/", server.addr);
        println!("Serving the course at {url}  (Ctrl-C to stop)");
        println!("The lab sidecar answers under {url}api/; to run lab steps from the pages, open (keep the token private):");
        println!("    {url}?token={}", server.sidecar.token());
        println!("Labs are copied into {}", server.sidecar.workspace().display());
        // The browser gets the token with the first page and keeps it.
        let with_token = format!("{url}?token={}", server.sidecar.token());
        if open && let Err(e) = opener::open(&with_token) {
            eprintln!("could not open a browser: {e}");
        }
        shutdown_signal().await;
        println!("Stopping.");
        server.stop().await;
        Ok(())
    })
}

/// Builds the site, binds `addr` (port 0 picks one), starts watching.
/// `workspace` is where the sidecar copies labs (default: under the home folder).
pub async fn start(
    project: Project,
    addr: SocketAddr,
    workspace: Option<PathBuf>,
) -> Result<Server> {
    let work = std::env::temp_dir().join(format!(
        "course-serve-{}-{}",
        std::process::id(),
        addr.port()
    ));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let first = work.join("site-0");
    let p = project.clone();
    let f = first.clone();
    tokio::task::spawn_blocking(move || build_into(&p, &f))
        .await
        .context("the build task failed")??;

    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr}\n  help: another program uses this port; pass --port with another number (0 picks a free one)")
    })?;
    let addr = listener.local_addr()?;
    // The sidecar checks Host headers against the port, so it comes after the bind.
    let sidecar = crate::sidecar::state(
        &project,
        workspace,
        &[],
        addr.port(),
        course_sidecar::Limits::default(),
    )?;

    let (events, _) = broadcast::channel(64);
    let state = ServeState {
        site: Arc::new(RwLock::new(first)),
        error: Arc::new(RwLock::new(None)),
        events,
        generation: Arc::new(AtomicU64::new(0)),
        work,
        sidecar: course_sidecar::app(sidecar.clone()),
    };
    let watcher = watch(project, state.clone())?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = app(state.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(Server {
        addr,
        state,
        sidecar,
        shutdown: Some(tx),
        task,
        _watcher: watcher,
    })
}

/// The router: the reload websocket and the site's files.
pub fn app(state: ServeState) -> Router {
    Router::new()
        .route(RELOAD_PATH, get(reload_socket))
        .fallback(static_file)
        .with_state(state)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

// ------------------------------------------------------------------ watching

fn watch(project: Project, state: ServeState) -> Result<notify::RecommendedWatcher> {
    let (tx, rx) = mpsc::channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            for p in event.paths {
                let _ = tx.send(p);
            }
        }
    })
    .context("starting the file watcher")?;
    let mut watched = Vec::new();
    for dir in [
        project.book.clone(),
        project.labs.clone(),
        project.root.join("theme"),
        project.root.join("templates"),
    ] {
        if dir.is_dir() {
            watcher
                .watch(&dir, RecursiveMode::Recursive)
                .with_context(|| format!("watching {}", dir.display()))?;
            watched.push(dir);
        }
    }
    let generated = [
        project.book.join("src").join("labs"),
        project.book.join("build"),
    ];
    std::thread::Builder::new()
        .name("course-rebuild".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut relevant = !ignored(&first, &generated);
                // Collect the burst of events an editor's save makes.
                while let Ok(p) = rx.recv_timeout(DEBOUNCE) {
                    relevant |= !ignored(&p, &generated);
                }
                if relevant {
                    rebuild(&project, &state);
                }
            }
        })
        .context("starting the rebuild thread")?;
    tracing::debug!("watching {watched:?}");
    Ok(watcher)
}

fn ignored(path: &Path, generated: &[PathBuf]) -> bool {
    const SKIP: &[&str] = &[
        ".venv",
        "__pycache__",
        ".pytest_cache",
        ".ruff_cache",
        "node_modules",
        ".git",
        "mlruns",
        "target",
    ];
    if generated.iter().any(|g| path.starts_with(g)) {
        return true;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with('~')
        || name.ends_with(".swp")
        || name.starts_with(".#")
        || name.ends_with(".tmp-labs")
        || path.components().any(
            |c| matches!(c, Component::Normal(n) if n.to_str().is_some_and(|n| SKIP.contains(&n))),
        )
}

/// Rebuilds into a new folder; on success serves it and tells pages to
/// reload, on failure keeps the old one and shows the error.
pub fn rebuild(project: &Project, state: &ServeState) {
    let start = Instant::now();
    let n = state.generation.fetch_add(1, Ordering::SeqCst) + 1;
    let dir = state.work.join(format!("site-{n}"));
    match build_into(project, &dir) {
        Ok(()) => {
            let old = state
                .site
                .write()
                .map(|mut s| std::mem::replace(&mut *s, dir))
                .ok();
            if let Ok(mut e) = state.error.write() {
                *e = None;
            }
            let _ = state.events.send(r#"{"type":"reload"}"#.to_owned());
            tracing::info!("rebuilt in {:.0?}", start.elapsed());
            if let Some(old) = old {
                // Give requests still reading the old folder a moment.
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(2));
                    let _ = std::fs::remove_dir_all(old);
                });
            }
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            let message = format!("{e:#}");
            eprintln!("error: the rebuild failed; still serving the last good site\n{message}");
            if let Ok(mut slot) = state.error.write() {
                *slot = Some(message.clone());
            }
            let _ = state
                .events
                .send(serde_json::json!({"type": "error", "message": message}).to_string());
        }
    }
}

// ------------------------------------------------------------------- serving

async fn reload_socket(ws: WebSocketUpgrade, State(state): State<ServeState>) -> Response {
    ws.on_upgrade(move |socket| pump(socket, state))
}

async fn pump(mut socket: WebSocket, state: ServeState) {
    let mut rx = state.subscribe();
    if let Some(message) = state.error() {
        let msg = serde_json::json!({"type": "error", "message": message}).to_string();
        if socket.send(Message::Text(msg.into())).await.is_err() {
            return;
        }
    }
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Ok(text) => if socket.send(Message::Text(text.into())).await.is_err() { return },
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// Injected before `</body>` of every HTML page: reload on rebuild, show a
/// failed rebuild's error at the top of the page.
const RELOAD_SCRIPT: &str = r#"<script>
(function () {
  "use strict";
  // The sidecar's token arrives once in the URL that `course serve` prints:
  // keep it for the lab widget (on any page) and take it out of the address bar.
  var params = new URLSearchParams(location.search);
  var token = params.get("token");
  if (token) {
    try { localStorage.setItem("course-sidecar-token", token); } catch (e) { /* storage off */ }
    params.delete("token");
    var query = params.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash);
  }
  var banner = null;
  function show(message) {
    if (!banner) {
      banner = document.createElement("div");
      banner.setAttribute("role", "alert");
      banner.style.cssText = "position:fixed;top:0;left:0;right:0;z-index:1000;max-height:50vh;overflow:auto;margin:0;padding:1em;background:#5c0011;color:#fff;font:14px/1.4 monospace;white-space:pre-wrap";
      document.body.appendChild(banner);
    }
    banner.textContent = "The rebuild failed; this page shows the last good build.\n\n" + message;
  }
  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(proto + location.host + "/__course/ws");
    socket.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === "reload") { location.reload(); }
      else if (msg.type === "error") { show(msg.message); }
    };
    socket.onclose = function () { setTimeout(connect, 1000); };
  }
  connect();
})();
</script>"#;

async fn static_file(State(state): State<ServeState>, request: Request) -> Response {
    let raw = request.uri().path();
    if raw == "/api" || raw.starts_with("/api/") {
        // The sidecar keeps its own paths (/api/...) and its own security checks.
        return match tower::ServiceExt::oneshot(state.sidecar.clone(), request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    if !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let site = state.site();
    let Some(rel) = safe_relative(raw) else {
        return (StatusCode::BAD_REQUEST, "bad path").into_response();
    };
    let mut path = site.join(&rel);
    if path.is_dir() {
        if !raw.ends_with('/') {
            let location = format!("{raw}/");
            return Response::builder()
                .status(StatusCode::MOVED_PERMANENTLY)
                .header(header::LOCATION, location)
                .body(Body::empty())
                .unwrap_or_default();
        }
        path = path.join("index.html");
    }
    let (status, path) = if path.is_file() {
        (StatusCode::OK, path)
    } else {
        (StatusCode::NOT_FOUND, site.join("404.html"))
    };
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mime = content_type(&path);
    let body = if mime.starts_with("text/html") {
        let mut html = String::from_utf8_lossy(&bytes).into_owned();
        match html.rfind("</body>") {
            Some(i) => html.insert_str(i, RELOAD_SCRIPT),
            None => html.push_str(RELOAD_SCRIPT),
        }
        Body::from(html)
    } else {
        Body::from(bytes)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The URL path as a relative path inside the site, or None if it tries to leave it.
fn safe_relative(url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let mut out = PathBuf::new();
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p if p.contains('\\') || p.contains('\0') || p.contains(':') => return None,
            p => out.push(p),
        }
    }
    Some(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "zip" => "application/zip",
        "txt" | "md" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_site() {
        assert_eq!(safe_relative("/a/b.html"), Some(PathBuf::from("a/b.html")));
        assert_eq!(safe_relative("/"), Some(PathBuf::new()));
        assert_eq!(
            safe_relative("/a%20b.html"),
            Some(PathBuf::from("a b.html"))
        );
        for bad in [
            "/../etc/passwd",
            "/a/%2e%2e/%2e%2e/x",
            "/a\\b",
            "/%zz",
            "/c:/x",
        ] {
            assert_eq!(safe_relative(bad), None, "{bad}");
        }
    }

    #[test]
    fn ignores_generated_and_editor_files() {
        let generated = vec![PathBuf::from("/c/book/src/labs")];
        assert!(ignored(Path::new("/c/book/src/labs/x.zip"), &generated));
        assert!(ignored(Path::new("/c/labs/a/.venv/lib/x.py"), &generated));
        assert!(ignored(Path::new("/c/book/src/a.md~"), &generated));
        assert!(!ignored(Path::new("/c/book/src/a.md"), &generated));
    }
}
