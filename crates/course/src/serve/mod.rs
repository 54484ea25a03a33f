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
//!
//! Here: starting and stopping a server. The parts: `watch` (what a
//! change means), `rebuild` (the two builds), `render` (the
//! incremental renderer), `layers` (the stack of folders served), `files`
//! (the static file server) and `reload` (the websocket and its script).

mod files;
mod layers;
mod rebuild;
mod reload;
mod render;
mod watch;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use axum::Router;
use axum::routing::get;
use tokio::sync::broadcast;

use crate::project::Project;
use layers::Stack;
pub use rebuild::rebuild;
pub use render::{Rendered, ServeBuild, Served, build_for_serve};

/// Default port of `course serve`: clashes with none of the labs' services
/// (Grafana/mdBook 3000, MLflow 5000, APIs 8000/8080, Streamlit 8501,
/// Jupyter 8888, Prometheus 9090, Alertmanager 9093).
pub const DEFAULT_PORT: u16 = 4242;

/// Path of the live-reload websocket.
pub const RELOAD_PATH: &str = "/__course/ws";

/// What the server shares between requests, the watcher and rebuilds.
#[derive(Clone)]
pub struct ServeState {
    /// The folders served, and the generations of the builds writing them.
    stack: Arc<Stack>,
    error: Arc<RwLock<Option<String>>>,
    events: broadcast::Sender<String>,
    /// Where every build of this server writes (one folder per build).
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
        self.stack.layers()
    }

    /// The file served for `rel` (a path relative to the site root), if any.
    pub fn resolve(&self, rel: &Path) -> Option<PathBuf> {
        self.stack.resolve(rel)
    }

    /// The error of the last rebuild, if it failed.
    pub fn error(&self) -> Option<String> {
        self.error.read().ok().and_then(|e| e.clone())
    }

    /// The generation of the newest site whose search index is complete:
    /// it equals [`ServeState::generation`] once the background build of the
    /// last rebuild is served.
    pub fn indexed(&self) -> u64 {
        self.stack.indexed()
    }

    /// The number of rebuilds started so far.
    pub fn generation(&self) -> u64 {
        self.stack.generation()
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
        stack: Arc::new(Stack::new(first, rendered)),
        error: Arc::new(RwLock::new(None)),
        events,
        work,
        stopped: Arc::new(AtomicBool::new(false)),
        sidecar: course_sidecar::app(sidecar.clone()),
    };
    let watcher = watch::watch(project, state.clone())?;
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
        .route(RELOAD_PATH, get(reload::socket))
        .fallback(files::static_file)
        .with_state(state)
}
