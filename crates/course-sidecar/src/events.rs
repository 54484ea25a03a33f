//! Server-sent events: one broadcast channel per lab, and one background
//! task per watched lab that refreshes its checks every interval.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use crate::api::{ApiError, LabParam};
use crate::checks;
use crate::state::{AppState, LabEntry, lock};

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

    fn to_sse(&self) -> Event {
        Event::default().event(self.name).data(&*self.data)
    }
}

/// Who watches a lab, and the task that keeps its checks fresh meanwhile.
#[derive(Default)]
pub(crate) struct Watch {
    clients: usize,
    task: Option<JoinHandle<()>>,
}

/// One open event stream: counted while it lives, and the last one to go
/// stops the lab's background checks.
struct Watcher {
    entry: Arc<LabEntry>,
    _slot: OwnedSemaphorePermit,
}

impl Watcher {
    fn join(entry: &Arc<LabEntry>, slot: OwnedSemaphorePermit) -> Result<Watcher, ApiError> {
        let mut watch = lock(&entry.watch);
        if watch.clients >= entry.limits.max_sse_per_lab {
            return Err(ApiError::Unavailable(
                "too many event streams are open on this lab".into(),
            ));
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

/// `GET /api/labs/{lab}/events`: first a `status` event per check (from the
/// cache), then `status`, `start`, `output`, `exit` and `reset` events as
/// they happen.
pub(crate) async fn events(
    State(state): State<AppState>,
    LabParam(entry): LabParam,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let slot = state
        .shared
        .sse_slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Unavailable("too many event streams are open".into()))?;
    let watcher = Watcher::join(&entry, slot)?;
    // Subscribe before reading the cache, so no change falls in between.
    let rx = entry.events.subscribe();
    let snapshot: Vec<Event> = {
        let cache = lock(&entry.checks);
        entry
            .lab
            .steps
            .iter()
            .zip(&cache.results)
            .filter_map(|(step, result)| {
                let result = result.as_ref()?;
                LabEvent::new("status", &checks::status_event(step, result))
            })
            .map(|e| e.to_sse())
            .collect()
    };
    let closing = state.shared.closing.subscribe();
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
                    Some(Ok(event)) => return Some((event.to_sse(), (rx, closing, watcher))),
                    // A slow reader skips what it missed; the next events still come.
                    Some(Err(RecvError::Lagged(_))) => continue,
                    Some(Err(RecvError::Closed)) | None => return None,
                }
            }
        },
    );
    let events = stream::iter(snapshot).chain(live).map(Ok);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
