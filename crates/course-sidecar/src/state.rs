//! What the server holds: the catalog, the settings, the token, and per lab
//! the cached checks, the running steps and the event channel.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use course_labs::{Catalog, Lab};
use serde::Serialize;
use tokio::sync::{Notify, Semaphore, broadcast, watch};

use crate::checks::CheckCache;
use crate::events::{LabEvent, Watch};
use crate::runner::Steps;
use crate::security::Token;

/// The port `course sidecar` listens on unless told otherwise; it clashes
/// with no lab's service and not with `course serve` (4242).
pub const DEFAULT_PORT: u16 = 4243;

/// Events buffered per lab for slow SSE clients before they skip ahead.
const EVENT_BUFFER: usize = 1024;
/// The shortest check interval accepted: a smaller one would busy-loop.
const MIN_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// Every resource the sidecar hands out is bounded; these are the bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body read (larger → 413). Only a progress import
    /// has one, and the page sends a large one in parts.
    pub max_body_bytes: usize,
    /// Most bytes of request headers, names and values together (more →
    /// 431). A page's requests carry a few hundred; cookies of other local
    /// apps on 127.0.0.1 can add some kilobytes.
    pub max_header_bytes: usize,
    /// Longest time a request may take to be answered (→ 408). Event
    /// streams are answered at once, so they are not cut by it.
    pub request_timeout: Duration,
    /// Steps (and resets) running at once, over all labs, services aside
    /// (more → 429).
    pub max_concurrent_runs: usize,
    /// Services (steps that keep running) up at once, over all labs (more
    /// → 429). Counted apart from other runs, so that the services a lab
    /// keeps up never starve the steps that use them.
    pub max_concurrent_services: usize,
    /// Event streams open on one lab (more → 503).
    pub max_sse_per_lab: usize,
    /// Event streams open in total (more → 503).
    pub max_sse_total: usize,
    /// Output kept per step run: the newest lines up to this many bytes.
    pub max_output_bytes: usize,
    /// How often a watched lab's checks run; also the age at which the
    /// cached status counts as stale.
    pub check_interval: Duration,
    /// How long each `cleanup` command of a reset may run.
    pub cleanup_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 * 1024,
            max_header_bytes: 32 * 1024,
            request_timeout: Duration::from_secs(30),
            max_concurrent_runs: 4,
            max_concurrent_services: 12,
            max_sse_per_lab: 64,
            max_sse_total: 256,
            max_output_bytes: 64 * 1024,
            check_interval: Duration::from_secs(2),
            cleanup_timeout: Duration::from_secs(60),
        }
    }
}

/// How a sidecar is set up, besides the catalog.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The learner's folder: lab `ID` is exported to, and runs in, `workspace/ID/`.
    pub workspace: PathBuf,
    /// Origins (e.g. `https://example.github.io`) whose pages may call the
    /// sidecar, compared exactly. The sidecar's own origins are always allowed.
    pub allowed_origins: Vec<String>,
    /// The port the server listens on, for the Host check. [`crate::serve_on`]
    /// sets it from the listener; set it yourself when you mount [`crate::app`].
    pub port: u16,
    /// Resource bounds.
    pub limits: Limits,
    /// The book's troubleshooting entries with symptoms, to match failures
    /// against (see `course_labs::troubleshoot`).
    pub known: Vec<course_labs::troubleshoot::Entry>,
}

/// The server's state: cheap to clone, shared by every request and task.
#[derive(Clone)]
pub struct AppState {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) catalog: Catalog,
    pub(crate) labs: HashMap<String, Arc<LabEntry>>,
    pub(crate) workspace: PathBuf,
    pub(crate) token: Token,
    pub(crate) origins: Vec<String>,
    pub(crate) port: AtomicU16,
    pub(crate) limits: Limits,
    pub(crate) slots: RunSlots,
    pub(crate) sse_slots: Arc<Semaphore>,
    /// Set when the server shuts down, so event streams end.
    pub(crate) closing: watch::Sender<bool>,
}

/// One lab and everything live about it.
pub(crate) struct LabEntry {
    pub(crate) lab: Lab,
    /// The learner's copy: `workspace/ID/`.
    pub(crate) dir: PathBuf,
    pub(crate) limits: Limits,
    pub(crate) events: broadcast::Sender<LabEvent>,
    pub(crate) checks: Mutex<CheckCache>,
    /// A refresh of the checks is in progress (refreshes are coalesced).
    pub(crate) refreshing: AtomicBool,
    pub(crate) watch: Mutex<Watch>,
    pub(crate) steps: Mutex<Steps>,
    /// Woken whenever a command of the lab ends.
    pub(crate) exited: Notify,
    /// The troubleshooting entries of the lab's module, then the appendix's.
    pub(crate) known: Vec<course_labs::troubleshoot::Entry>,
}

/// The slots commands take while they run, shared by every lab.
#[derive(Clone)]
pub(crate) struct RunSlots {
    pub(crate) runs: Arc<Semaphore>,
    pub(crate) services: Arc<Semaphore>,
}

impl RunSlots {
    pub(crate) fn new(limits: &Limits) -> RunSlots {
        RunSlots {
            runs: slots(limits.max_concurrent_runs),
            services: slots(limits.max_concurrent_services),
        }
    }
}

fn slots(n: usize) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(n.min(Semaphore::MAX_PERMITS)))
}

impl LabEntry {
    pub(crate) fn new(lab: Lab, dir: PathBuf, limits: Limits) -> LabEntry {
        LabEntry {
            checks: Mutex::new(CheckCache::new(&lab)),
            lab,
            dir,
            limits,
            events: broadcast::channel(EVENT_BUFFER).0,
            refreshing: AtomicBool::new(false),
            watch: Mutex::new(Watch::default()),
            steps: Mutex::new(Steps::default()),
            exited: Notify::new(),
            known: Vec::new(),
        }
    }

    /// Each step whose check has a cached result, with that result, in step order.
    pub(crate) fn checked_steps(&self) -> Vec<(&course_labs::Step, crate::checks::CheckResult)> {
        let cache = lock(&self.checks);
        self.lab
            .steps
            .iter()
            .zip(&cache.results)
            .filter_map(|(step, result)| result.clone().map(|r| (step, r)))
            .collect()
    }

    /// Whether the learner's copy exists.
    pub(crate) fn exported(&self) -> bool {
        self.dir.is_dir()
    }

    /// Sends an event to every watcher of the lab (none is fine).
    pub(crate) fn send(&self, name: &'static str, payload: &impl Serialize) {
        match LabEvent::new(name, payload) {
            Some(event) => {
                let _ = self.events.send(event);
            }
            None => tracing::error!(event = name, "an event did not serialize"),
        }
    }
}

impl AppState {
    /// Builds the state for `catalog` with a fresh random token.
    ///
    /// Fails only when the system's random source does.
    pub fn new(catalog: Catalog, settings: Settings) -> std::io::Result<AppState> {
        let token = Token::generate()?;
        let mut limits = settings.limits;
        limits.check_interval = limits.check_interval.max(MIN_CHECK_INTERVAL);
        let labs = catalog
            .labs
            .iter()
            .map(|lab| {
                let mut entry =
                    LabEntry::new(lab.clone(), settings.workspace.join(&lab.id), limits);
                entry.known = crate::known::for_module(&settings.known, lab.module);
                (lab.id.clone(), Arc::new(entry))
            })
            .collect();
        let origins = settings
            .allowed_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| {
                // A wildcard or the opaque origin would let any page in.
                let usable = !o.is_empty() && o != "*" && o != "null";
                if !usable {
                    tracing::warn!(origin = ?o, "ignoring an allowed origin that is not an exact origin");
                }
                usable
            })
            .collect();
        Ok(AppState {
            shared: Arc::new(Shared {
                catalog,
                labs,
                workspace: settings.workspace,
                token,
                origins,
                port: AtomicU16::new(settings.port),
                limits,
                slots: RunSlots::new(&limits),
                sse_slots: slots(limits.max_sse_total),
                closing: watch::channel(false).0,
            }),
        })
    }

    /// The per-launch token: print it for the learner, never log it.
    pub fn token(&self) -> &str {
        self.shared.token.as_str()
    }

    /// The catalog the sidecar serves.
    pub fn catalog(&self) -> &Catalog {
        &self.shared.catalog
    }

    /// The learner's folder.
    pub fn workspace(&self) -> &Path {
        &self.shared.workspace
    }

    /// The resource bounds in force.
    pub fn limits(&self) -> Limits {
        self.shared.limits
    }

    /// The port requests must name in their Host header.
    pub fn port(&self) -> u16 {
        self.shared.port.load(Ordering::Relaxed)
    }

    /// Sets the port requests must name (after binding port 0, say).
    pub fn set_port(&self, port: u16) {
        self.shared.port.store(port, Ordering::Relaxed);
    }

    /// Ends every event stream, stops every running step (its whole process
    /// group) and waits, briefly, for them to exit. Called on shutdown.
    pub async fn shutdown(&self) {
        self.shared.closing.send_replace(true);
        let entries: Vec<_> = self.entries().collect();
        crate::runner::stop_all(&entries).await;
    }

    pub(crate) fn lab(&self, id: &str) -> Option<Arc<LabEntry>> {
        if !course_labs::is_valid_id(id) {
            return None;
        }
        self.shared.labs.get(id).cloned()
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = &Arc<LabEntry>> {
        self.shared.labs.values()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("labs", &self.shared.catalog.labs.len())
            .field("workspace", &self.shared.workspace)
            .field("token", &self.shared.token)
            .field("origins", &self.shared.origins)
            .field("port", &self.port())
            .field("limits", &self.shared.limits)
            .finish()
    }
}

/// Locks a mutex, taking it over if a panicking holder poisoned it: every
/// critical section leaves the data consistent, so the data is still good.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
