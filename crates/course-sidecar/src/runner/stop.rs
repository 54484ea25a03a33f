//! Stopping runs: one step on request, every step at shutdown, and the
//! wait until they are gone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use course_labs::Step;

use super::RunError;
use crate::proc::STOP_GRACE;
use crate::state::{LabEntry, lock};

/// Asks a running step to stop: SIGTERM to its process group, SIGKILL
/// after a grace period.
pub(crate) fn cancel(entry: &LabEntry, step: &Step) -> Result<(), RunError> {
    let steps = lock(&entry.steps);
    match steps.by_id.get(&step.id).and_then(|s| s.running.as_ref()) {
        Some(running) => {
            running.cancel.notify_one();
            Ok(())
        }
        None => Err(RunError::NotRunning),
    }
}

/// Stops every run of every lab and waits for them to end (shutdown).
pub(crate) async fn stop_all(entries: &[&Arc<LabEntry>]) {
    for entry in entries {
        let steps = lock(&entry.steps);
        for running in steps.by_id.values().filter_map(|s| s.running.as_ref()) {
            running.cancel.notify_one();
        }
    }
    for entry in entries {
        wait_until_stopped(entry, &[]).await;
    }
}

/// Waits until the named steps (every step, for none) no longer run, at
/// most a little longer than a stop takes.
pub(super) async fn wait_until_stopped(entry: &LabEntry, ids: &[String]) {
    let deadline = Instant::now() + STOP_GRACE * 2 + Duration::from_secs(2);
    loop {
        let exited = entry.exited.notified();
        let running = lock(&entry.steps)
            .by_id
            .iter()
            .any(|(id, s)| s.running.is_some() && (ids.is_empty() || ids.contains(id)));
        if !running || Instant::now() >= deadline {
            return;
        }
        let _ = tokio::time::timeout(Duration::from_millis(200), exited).await;
    }
}
