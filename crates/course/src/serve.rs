//! `course serve`: build, serve the site on 127.0.0.1, watch the sources,
//! rebuild on change and tell open pages to reload over a websocket.
//!
//! mdBook's own `serve` is not a library, so this is ours. Each rebuild goes
//! into a fresh folder; the server switches to it only when the build
//! succeeded, so a broken edit keeps the last good site up while the error
//! shows in the terminal and on every open page.
//!
//! A rebuild comes in two steps, so that an edit shows within a fraction of
//! a second however large the book is:
//!
//! 1. When only chapters' text changed (a chapter's Markdown, a lab, the
//!    labs' templates or theme, a transcript), the pages whose text changed are rendered
//!    into a *layer* served over the current site; otherwise every page is
//!    rendered, with an empty search index replaced by the last good one.
//!    The server switches and open pages reload.
//! 2. A background build writes the whole site again, search index and
//!    print page included, and the server switches to it without a reload:
//!    its pages are the same bytes.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

use crate::build::{Rendered, ServeBuild, Served, build_for_serve};
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

/// Layers stacked past this many make the next rebuild a whole one.
const MAX_LAYERS: usize = 8;

/// The site being served: a whole site and the layers of changed pages
/// over it (the last one wins), and what they hold.
#[derive(Default)]
struct Site {
    layers: Vec<PathBuf>,
    rendered: Option<Rendered>,
}

/// What the server shares between requests, the watcher and rebuilds.
#[derive(Clone)]
pub struct ServeState {
    site: Arc<RwLock<Site>>,
    error: Arc<RwLock<Option<String>>>,
    events: broadcast::Sender<String>,
    generation: Arc<AtomicU64>,
    /// Generation whose site was indexed for search last (0: the first build).
    indexed: Arc<AtomicU64>,
    work: PathBuf,
    /// Set when the server stops: builds still running remove their output.
    stopped: Arc<AtomicBool>,
    /// The sidecar's router, answering `/api/...` on the same origin.
    sidecar: Router,
}

impl ServeState {
    /// The folders served now: a whole site, then layers of changed pages
    /// over it (a file is taken from the last folder that has it).
    pub fn layers(&self) -> Vec<PathBuf> {
        self.site
            .read()
            .map(|s| s.layers.clone())
            .unwrap_or_default()
    }

    /// The file served for `rel` (a path relative to the site root), if any.
    pub fn resolve(&self, rel: &Path) -> Option<PathBuf> {
        find_in(&self.layers(), rel)
    }

    /// The error of the last rebuild, if it failed.
    pub fn error(&self) -> Option<String> {
        self.error.read().ok().and_then(|e| e.clone())
    }

    /// The generation of the newest site whose search index is complete:
    /// it equals [`ServeState::generation`] once the background build of the
    /// last rebuild is served.
    pub fn indexed(&self) -> u64 {
        self.indexed.load(Ordering::SeqCst)
    }

    /// The number of rebuilds started so far.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Marks the server stopped and removes its build folders (a build
    /// still running removes what it wrote when it ends).
    fn remove_work(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _ = std::fs::remove_dir_all(&self.work);
    }

    /// After a build: if the server stopped meanwhile, the build may have
    /// made its folders again; remove them.
    fn tidy_if_stopped(&self) -> bool {
        let stopped = self.stopped.load(Ordering::SeqCst);
        if stopped {
            let _ = std::fs::remove_dir_all(&self.work);
        }
        stopped
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
        self.state.remove_work();
    }
}

impl Drop for Server {
    /// A server dropped without [`Server::stop`] (a failed test, an early
    /// return) still removes its build folders.
    fn drop(&mut self) {
        self.state.remove_work();
    }
}

/// Builds once, then serves and watches until Ctrl-C.
pub fn serve(project: Project, port: u16, open: bool) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let server = start(project, SocketAddr::from(([127, 0, 0, 1], port)), None).await?;
        let url = format!("http://{}/", server.addr);
        println!("Serving the course at {url}  (Ctrl-C to stop)");
        // The browser gets the token with the first page and keeps it; in
        // the fragment, it never reaches a server log or a proxy.
        let with_token = format!(
            "{url}#{}={}",
            course_sidecar::TOKEN_FRAGMENT,
            server.sidecar.token()
        );
        println!("The lab sidecar answers under {url}api/; to run lab steps from the pages, open (its token lets a page run lab steps: keep it private):");
        println!("    {with_token}");
        println!("Labs are copied into {}", server.sidecar.workspace().display());
        if open && let Err(e) = opener::open(&with_token) {
            eprintln!("could not open a browser: {e}");
        }
        course_sidecar::shutdown_signal().await;
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
    // One folder per server (a process may run several, as tests do).
    static SERVERS: AtomicU64 = AtomicU64::new(0);
    let work = std::env::temp_dir().join(format!(
        "course-serve-{}-{}",
        std::process::id(),
        SERVERS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let first = work.join("site-0");
    let p = project.clone();
    let f = first.clone();
    let (rendered, _) =
        tokio::task::spawn_blocking(move || build_for_serve(&p, &f, ServeBuild::Full, None))
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
        site: Arc::new(RwLock::new(Site {
            layers: vec![first],
            rendered: Some(rendered),
        })),
        error: Arc::new(RwLock::new(None)),
        events,
        generation: Arc::new(AtomicU64::new(0)),
        indexed: Arc::new(AtomicU64::new(0)),
        work,
        stopped: Arc::new(AtomicBool::new(false)),
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
        project.theme.clone(),
        project.templates.clone(),
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
    let indexer = spawn_indexer(project.clone(), state.clone())?;
    std::thread::Builder::new()
        .name("course-rebuild".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut changed = vec![first];
                // Collect the burst of events an editor's save makes.
                while let Ok(p) = rx.recv_timeout(DEBOUNCE) {
                    changed.push(p);
                }
                changed.retain(|p| !ignored(p, &generated));
                if changed.is_empty() {
                    continue;
                }
                tracing::debug!("changed: {changed:?}");
                let built = rebuild(&project, &state, &changed);
                if state.tidy_if_stopped() {
                    return;
                }
                if let Some(n) = built {
                    let _ = indexer.send(n);
                }
            }
        })
        .context("starting the rebuild thread")?;
    tracing::debug!("watching {watched:?}");
    Ok(watcher)
}

/// Where the sources of the pages' text are: a change anywhere else (the
/// book's config, its mdBook theme, an image) may touch every page.
struct Sources {
    chapters: PathBuf,
    mdbook_theme: PathBuf,
    text: [PathBuf; 4],
}

impl Sources {
    fn of(project: &Project) -> Sources {
        Sources {
            chapters: project.book.join("src"),
            mdbook_theme: project.book.join("theme"),
            text: [
                project.labs.clone(),
                project.theme.clone(),
                project.templates.clone(),
                // What `{{#lab-output}}` quotes: it changes only the text
                // of the chapters that quote it.
                project.book.join(course_labs::TRANSCRIPTS_DIR),
            ],
        }
    }

    /// Whether a change of `path` can change only chapters' text (and the
    /// labs' files): a chapter's Markdown (`is_chapter` tells, given the
    /// path inside `src`), a lab, the labs' templates and theme, a step's
    /// transcript. Chapters whose text did not change keep their pages then.
    fn only_text(&self, path: &Path, is_chapter: impl Fn(&Path) -> bool) -> bool {
        if path.starts_with(&self.mdbook_theme) {
            return false;
        }
        match path.strip_prefix(&self.chapters) {
            Ok(source) => is_chapter(source),
            Err(_) => self.text.iter().any(|dir| path.starts_with(dir)),
        }
    }
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

/// Rebuilds into a new folder (see the module's doc) after the files
/// `changed` changed: a layer of the changed pages when only chapters'
/// text can have changed and few layers are stacked, else every page. On
/// success serves it, tells pages to reload (if a page changed) and returns
/// its generation, for the full build behind it; on failure keeps the old
/// site and shows the error.
pub fn rebuild(project: &Project, state: &ServeState, changed: &[PathBuf]) -> Option<u64> {
    let start = Instant::now();
    let n = state.generation.fetch_add(1, Ordering::SeqCst) + 1;
    let dir = state.work.join(format!("site-{n}"));
    // Read after the generation moved on: a full build behind an older
    // rebuild can no longer switch the site under this one.
    let sources = Sources::of(project);
    let (previous, below) = match state.site.read() {
        Ok(site) => (
            site.rendered.clone().filter(|r| {
                site.layers.len() < MAX_LAYERS
                    && changed
                        .iter()
                        .all(|p| sources.only_text(p, |s| r.is_chapter(s)))
            }),
            site.layers.clone(),
        ),
        Err(_) => (None, Vec::new()),
    };
    let built = build_for_serve(project, &dir, ServeBuild::Pages, previous.as_ref()).and_then(
        |(rendered, served)| {
            if served == Served::Whole
                && let Some(last) = below
                    .iter()
                    .rev()
                    .find(|l| l.join("searchindex.js").is_file())
            {
                keep_search_index(last, &dir)?;
            }
            Ok((rendered, served))
        },
    );
    match built {
        Ok((_, Served::Layer)) if is_empty_dir(&dir) => {
            // Nothing a reader sees changed (a file saved unchanged, or one
            // no page shows): no reload, unless a failed rebuild's error
            // is on the pages and must go.
            let _ = std::fs::remove_dir_all(&dir);
            tracing::info!("no page changed ({:.0?})", start.elapsed());
            let had_error = state
                .error
                .write()
                .ok()
                .and_then(|mut e| e.take())
                .is_some();
            if had_error {
                let _ = state.events.send(r#"{"type":"reload"}"#.to_owned());
            }
            // The site is as indexed as before; if a full build is pending,
            // this generation takes it over.
            if state
                .indexed
                .compare_exchange(n - 1, n, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                None
            } else {
                Some(n)
            }
        }
        Ok((rendered, served)) => {
            let what = match served {
                Served::Whole => {
                    switch_to(state, dir, rendered);
                    "rebuilt"
                }
                Served::Layer => {
                    if let Ok(mut site) = state.site.write() {
                        site.layers.push(dir);
                        site.rendered = Some(rendered);
                    }
                    "rebuilt the changed pages"
                }
            };
            if let Ok(mut e) = state.error.write() {
                *e = None;
            }
            let _ = state.events.send(r#"{"type":"reload"}"#.to_owned());
            tracing::info!("{what} in {:.0?}", start.elapsed());
            Some(n)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            report_failure(state, &e);
            None
        }
    }
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
}

/// Until the full build behind a rebuild is served, search uses the last
/// complete index (one edit behind) rather than the empty one.
fn keep_search_index(old: &Path, new: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(old) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("searchindex") {
            let to = new.join(&name);
            let _ = std::fs::remove_file(&to);
            // The old folder goes soon; a link keeps the file without a copy.
            std::fs::hard_link(entry.path(), &to)
                .or_else(|_| std::fs::copy(entry.path(), &to).map(drop))
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Serves the whole site `dir` from now on; the folders served before go
/// a moment later.
fn switch_to(state: &ServeState, dir: PathBuf, rendered: Rendered) {
    let old = state.site.write().ok().map(|mut site| {
        site.rendered = Some(rendered);
        std::mem::replace(&mut site.layers, vec![dir])
    });
    remove_later(old.unwrap_or_default());
}

/// Removes folders once requests still reading them are done.
fn remove_later(dirs: Vec<PathBuf>) {
    if dirs.is_empty() {
        return;
    }
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        for dir in dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    });
}

fn report_failure(state: &ServeState, e: &anyhow::Error) {
    let message = format!("{e:#}");
    eprintln!("error: the rebuild failed; still serving the last good site\n{message}");
    if let Ok(mut slot) = state.error.write() {
        *slot = Some(message.clone());
    }
    let _ = state
        .events
        .send(serde_json::json!({"type": "error", "message": message}).to_string());
}

/// The thread that builds the whole site (search index included) behind
/// each rebuild. It receives generations and builds only the newest: a
/// rebuild started meanwhile makes an older full build pointless.
fn spawn_indexer(project: Project, state: ServeState) -> Result<mpsc::Sender<u64>> {
    let (tx, rx) = mpsc::channel::<u64>();
    std::thread::Builder::new()
        .name("course-index".into())
        .spawn(move || {
            while let Ok(mut n) = rx.recv() {
                while let Ok(newer) = rx.try_recv() {
                    n = newer;
                }
                if state.stopped.load(Ordering::SeqCst) {
                    return;
                }
                if state.generation.load(Ordering::SeqCst) != n {
                    continue;
                }
                let start = Instant::now();
                let dir = state.work.join(format!("site-{n}-full"));
                match build_for_serve(&project, &dir, ServeBuild::Full, None) {
                    Ok((rendered, _)) => {
                        // Switch only if no rebuild started since; the check and
                        // the switch hold the lock a rebuild reads under.
                        let old = match state.site.write() {
                            Ok(mut site) if state.generation.load(Ordering::SeqCst) == n => {
                                site.rendered = Some(rendered);
                                Some(std::mem::replace(&mut site.layers, vec![dir.clone()]))
                            }
                            _ => None,
                        };
                        match old {
                            Some(old) => {
                                state.indexed.store(n, Ordering::SeqCst);
                                tracing::info!("search index updated in {:.0?}", start.elapsed());
                                remove_later(old);
                            }
                            None => {
                                let _ = std::fs::remove_dir_all(&dir);
                            }
                        }
                    }
                    Err(e) => {
                        let _ = std::fs::remove_dir_all(&dir);
                        // (No report while the server stops and removes its folders.)
                        if state.generation.load(Ordering::SeqCst) == n
                            && !state.stopped.load(Ordering::SeqCst)
                        {
                            report_failure(&state, &e);
                        }
                    }
                }
                if state.tidy_if_stopped() {
                    return;
                }
            }
        })
        .context("starting the search-index thread")?;
    Ok(tx)
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
  // This page comes from `course serve`: the lab widget finds the sidecar
  // under /api on this origin and connects without asking.
  document.documentElement.setAttribute("data-course-serve", "");
  // The sidecar's token arrives once in the link `course serve` prints
  // (#course-token=…): keep it for the lab widget (on any page) and take it
  // out of the address bar.
  var match = /^#course-token=([^&]+)$/.exec(location.hash);
  if (match) {
    try { localStorage.setItem("course-sidecar-token", decodeURIComponent(match[1])); } catch (e) { /* storage off */ }
    history.replaceState(null, "", location.pathname + location.search);
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
    let layers = state.layers();
    let Some(mut rel) = safe_relative(raw) else {
        return (StatusCode::BAD_REQUEST, "bad path").into_response();
    };
    if layers.iter().any(|layer| layer.join(&rel).is_dir()) {
        if !raw.ends_with('/') {
            let location = format!("{raw}/");
            return Response::builder()
                .status(StatusCode::MOVED_PERMANENTLY)
                .header(header::LOCATION, location)
                .body(Body::empty())
                .unwrap_or_default();
        }
        rel.push("index.html");
    }
    let (status, path) = match find_in(&layers, &rel) {
        Some(path) => (StatusCode::OK, path),
        None => match find_in(&layers, Path::new("404.html")) {
            Some(path) => (StatusCode::NOT_FOUND, path),
            None => return (StatusCode::NOT_FOUND, "not found").into_response(),
        },
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

/// `rel` in the last of `layers` that has it as a file.
fn find_in(layers: &[PathBuf], rel: &Path) -> Option<PathBuf> {
    layers
        .iter()
        .rev()
        .map(|layer| layer.join(rel))
        .find(|p| p.is_file())
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
    fn only_chapters_labs_and_lab_templates_are_text_sources() {
        let project = Project {
            book: PathBuf::from("/c/book"),
            labs: PathBuf::from("/c/labs"),
            root: PathBuf::from("/c"),
            // As book.toml's `templates-dir` and `theme-dir` may put them.
            templates: PathBuf::from("/c/site/templates"),
            theme: PathBuf::from("/c/site/widget"),
        };
        let sources = Sources::of(&project);
        let is_chapter = |p: &Path| p == Path::new("a.md") || p == Path::new("part/b.md");
        for text in [
            "/c/book/src/a.md",
            "/c/book/src/part/b.md",
            "/c/labs/demo/app/main.py",
            "/c/labs/demo/lab.yaml",
            "/c/site/templates/lab.html",
            "/c/site/widget/labs.css",
            "/c/book/transcripts/demo/install.txt",
        ] {
            assert!(sources.only_text(Path::new(text), is_chapter), "{text}");
        }
        for other in [
            "/c/book/book.toml",
            "/c/book/src/SUMMARY.md",
            "/c/book/src/404.md",
            "/c/book/src/snippet.md",
            "/c/book/src/img/diagram.svg",
            "/c/book/theme/index.hbs",
            "/c/book/theme/notes.md",
            "/c/elsewhere.md",
            // Not where book.toml puts them: not the labs' templates or theme.
            "/c/templates/lab.html",
            "/c/theme/labs.css",
        ] {
            assert!(!sources.only_text(Path::new(other), is_chapter), "{other}");
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
