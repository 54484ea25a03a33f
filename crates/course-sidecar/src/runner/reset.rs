//! A reset: the lab's runs stopped with their process groups, then every
//! step's `cleanup`, the last step's first.

use std::sync::Arc;

use serde::Serialize;

use super::execute::{execute, failed_to_start, finish};
use super::stop::wait_until_stopped;
use super::{Phase, RunError, StartEvent};
use crate::proc::Proc;
use crate::state::{LabEntry, RunSlots, lock, now_ms};

#[derive(Serialize)]
struct ResetEvent<'a> {
    done: bool,
    cleanups: &'a [String],
}

/// Stops the lab's runs (their whole process groups: that is how a reset
/// stops services, never by matching process names), then runs every step's
/// `cleanup`, the last step's first. Returns the ids of the steps whose cleanup will run
/// and the work itself, for the caller to await or spawn.
pub(crate) fn reset(
    slots: &RunSlots,
    entry: &Arc<LabEntry>,
) -> Result<(Vec<String>, impl Future<Output = ()> + Send + 'static), RunError> {
    if !entry.exported() {
        return Err(RunError::NotExported(entry.lab.id.clone()));
    }
    let mut steps = lock(&entry.steps);
    if steps.resetting {
        return Err(RunError::Resetting);
    }
    let slot = slots
        .runs
        .clone()
        .try_acquire_owned()
        .map_err(|_| RunError::TooManyRuns)?;
    steps.resetting = true;
    for running in steps.by_id.values().filter_map(|s| s.running.as_ref()) {
        running.cancel.notify_one();
    }
    drop(steps);
    // Last step first, as an undo goes: a container is removed before the
    // image it runs, a service's data after the service.
    let cleanups: Vec<(String, String)> = entry
        .lab
        .steps
        .iter()
        .rev()
        .filter_map(|s| Some((s.id.clone(), s.cleanup.clone()?)))
        .collect();
    let ids: Vec<String> = cleanups.iter().map(|(id, _)| id.clone()).collect();
    let entry = entry.clone();
    let reported = ids.clone();
    let work = async move {
        wait_until_stopped(&entry, &[]).await;
        for (step_id, command) in &cleanups {
            let exit = match Proc::spawn(command, &entry.dir) {
                Ok(proc) => {
                    lock(&entry.steps).groups.extend(proc.group());
                    entry.send(
                        "start",
                        &StartEvent {
                            step: step_id,
                            phase: Phase::Cleanup,
                            started_at_ms: now_ms(),
                        },
                    );
                    let limit = Some(entry.limits.cleanup_timeout);
                    execute(&entry, step_id, Phase::Cleanup, proc, limit, None).await
                }
                Err(e) => {
                    tracing::error!(lab = %entry.lab.id, step = %step_id, "could not start a cleanup: {e}");
                    failed_to_start(Phase::Cleanup)
                }
            };
            finish(&entry, step_id, exit).await;
        }
        lock(&entry.steps).resetting = false;
        entry.send(
            "reset",
            &ResetEvent {
                done: true,
                cleanups: &reported,
            },
        );
        drop(slot);
    };
    Ok((ids, work))
}
