//! Starting a step: a slot of the right pool, the services it replaces
//! stopped first, then its command in its own process group.

use std::sync::Arc;

use course_labs::Step;
use tokio::sync::Notify;

use super::execute::{execute, failed_to_start, finish};
use super::stop::wait_until_stopped;
use super::{OutputLog, Phase, RunError, Running, StartEvent};
use crate::proc::Proc;
use crate::state::{LabEntry, RunSlots, lock, now_ms};

/// Starts `step`'s command in the learner's copy of the lab. A service takes
/// one of the service slots, anything else one of the run slots, so that the
/// services a lab keeps up never starve the steps that use them. Services the
/// step `stops` are stopped first.
pub(crate) fn start(slots: &RunSlots, entry: &Arc<LabEntry>, step: &Step) -> Result<(), RunError> {
    let Some(command) = &step.run else {
        return Err(RunError::NoCommand);
    };
    if !entry.exported() {
        return Err(RunError::NotExported(entry.lab.id.clone()));
    }
    let mut steps = lock(&entry.steps);
    if steps.resetting {
        return Err(RunError::Resetting);
    }
    if steps
        .by_id
        .get(&step.id)
        .is_some_and(|s| s.running.is_some())
    {
        return Err(RunError::AlreadyRunning);
    }
    let pool = if step.service {
        &slots.services
    } else {
        &slots.runs
    };
    let slot = pool
        .clone()
        .try_acquire_owned()
        .map_err(|_| RunError::TooManyRuns)?;
    // The services this step replaces: asked to stop now, waited for below.
    let mut replaced = Vec::new();
    for target in &step.stops {
        if let Some(running) = steps.by_id.get(target).and_then(|s| s.running.as_ref()) {
            running.cancel.notify_one();
            replaced.push(target.clone());
        }
    }
    let proc = if replaced.is_empty() {
        let proc = Proc::spawn(command, &entry.dir).map_err(RunError::Spawn)?;
        steps.groups.extend(proc.group());
        Some(proc)
    } else {
        None
    };
    let cancel = Arc::new(Notify::new());
    let started_at_ms = now_ms();
    let run = steps.by_id.entry(step.id.clone()).or_default();
    run.running = Some(Running {
        cancel: cancel.clone(),
        started_at_ms,
    });
    run.output = OutputLog::default();
    drop(steps);
    entry.send(
        "start",
        &StartEvent {
            step: &step.id,
            phase: Phase::Run,
            started_at_ms,
        },
    );
    tracing::debug!(lab = %entry.lab.id, step = %step.id, "step started");
    let limit = (!step.service).then_some(step.timeout);
    let entry = entry.clone();
    let step_id = step.id.clone();
    let command = command.clone();
    tokio::spawn(async move {
        let proc = match proc {
            Some(proc) => Ok(proc),
            None => {
                wait_until_stopped(&entry, &replaced).await;
                Proc::spawn(&command, &entry.dir).inspect(|p| {
                    lock(&entry.steps).groups.extend(p.group());
                })
            }
        };
        let exit = match proc {
            Ok(proc) => execute(&entry, &step_id, Phase::Run, proc, limit, Some(&cancel)).await,
            Err(e) => {
                tracing::error!(lab = %entry.lab.id, step = %step_id, "could not start a step: {e}");
                failed_to_start(Phase::Run)
            }
        };
        finish(&entry, &step_id, exit).await;
        drop(slot);
    });
    Ok(())
}
