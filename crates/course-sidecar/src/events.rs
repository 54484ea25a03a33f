//! Lab events: one broadcast channel per lab, the watchers of each lab, and
//! one background task per watched lab that refreshes its checks every
//! interval. The HTTP side turns a [`Subscription`] into server-sent events.

use std::sync::Arc;

use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{OwnedSemaphorePermit, broadcast, watch};
use tokio::task::JoinHandle;

use crate::checks;
use crate::state::{AppState, LabEntry, lock};

/// Why a page may not watch a lab now.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WatchError {
    /// Every event stream the sidecar allows is open.
    #[error("too many event streams are open")]
    TooManyStreams,
    /// Every event stream this lab allows is open.
    #[error("too many event streams are open on this lab")]
    TooManyOnLab,
}

/// One event, serialized once however many streams carry it.
#[derive(Debug, Clone)]
pub(crate) struct LabEvent {
    name: &'static str,
    data: Arc<str>,
}

impl LabEvent {
    pub(crate) fn new(name: &'static str, payload: &impl Serialize) -> Option<LabEvent> {
        let data = serde_json::to_string(payload).ok()?;
        Some(LabEvent {
            name,
            data: data.into(),
        })
    }

    /// The event's name: `status`, `start`, `output`, `exit` or `reset`.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The event's payload, as JSON.
    pub(crate) fn data(&self) -> &str {
        &self.data
    }
}

/// Who watches a lab, and the task that keeps its checks fresh meanwhile.
#[derive(Default)]
pub(crate) struct Watch {
    clients: usize,
    task: Option<JoinHandle<()>>,
}

/// One watcher of a lab: counted while it lives, and the last one to go
/// stops the lab's background checks.
struct Watcher {
    entry: Arc<LabEntry>,
    _slot: OwnedSemaphorePermit,
}

impl Watcher {
    fn join(entry: &Arc<LabEntry>, slot: OwnedSemaphorePermit) -> Result<Watcher, WatchError> {
        let mut watch = lock(&entry.watch);
        if watch.clients >= entry.limits.max_sse_per_lab {
            return Err(WatchError::TooManyOnLab);
        }
        watch.clients += 1;
        if watch.task.as_ref().is_none_or(JoinHandle::is_finished) {
            let entry = entry.clone();
            watch.task = Some(tokio::spawn(async move {
                loop {
                    checks::refresh(&entry).await;
                    tokio::time::sleep(entry.limits.check_interval).await;
                }
            }));
        }
        Ok(Watcher {
            entry: entry.clone(),
            _slot: slot,
        })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let mut watch = lock(&self.entry.watch);
        watch.clients = watch.clients.saturating_sub(1);
        if watch.clients == 0
            && let Some(task) = watch.task.take()
        {
            task.abort();
        }
    }
}

/// A page watching a lab: first a `status` event per check (from the
/// cache), then `status`, `start`, `output`, `exit` and `reset` events as
/// they happen, until the server shuts down.
pub(crate) struct Subscription {
    snapshot: Vec<LabEvent>,
    rx: broadcast::Receiver<LabEvent>,
    closing: watch::Receiver<bool>,
    watcher: Watcher,
}

impl Subscription {
    /// Takes one of the sidecar's stream slots and one of the lab's, and
    /// starts the lab's background checks if nobody watched it yet.
    pub(crate) fn open(
        state: &AppState,
        entry: &Arc<LabEntry>,
    ) -> Result<Subscription, WatchError> {
        let slot = state
            .shared
            .sse_slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| WatchError::TooManyStreams)?;
        let watcher = Watcher::join(entry, slot)?;
        // Subscribe before reading the cache, so no change falls in between.
        let rx = entry.events.subscribe();
        let snapshot: Vec<LabEvent> = entry
            .checked_steps()
            .into_iter()
            .filter_map(|(step, result)| {
                LabEvent::new("status", &checks::status_event(step, &result))
            })
            .collect();
        Ok(Subscription {
            snapshot,
            rx,
            closing: state.shared.closing.subscribe(),
            watcher,
        })
    }

    /// The events, the snapshot first; the watcher counts until the stream
    /// is dropped.
    pub(crate) fn into_stream(self) -> impl Stream<Item = LabEvent> + Send + 'static {
        let Subscription {
            snapshot,
            rx,
            closing,
            watcher,
        } = self;
        let live = stream::unfold(
            (rx, closing, watcher),
            |(mut rx, mut closing, watcher)| async move {
                loop {
                    let received = tokio::select! {
                        received = rx.recv() => Some(received),
                        // Ends the stream on shutdown (or when the state is gone).
                        () = async { let _ = closing.wait_for(|closing| *closing).await; } => None,
                    };
                    match received {
                        Some(Ok(event)) => return Some((event, (rx, closing, watcher))),
                        // A slow reader skips what it missed; the next events still come.
                        Some(Err(RecvError::Lagged(_))) => continue,
                        Some(Err(RecvError::Closed)) | None => return None,
                    }
                }
            },
        );
        stream::iter(snapshot).chain(live)
    }
}
