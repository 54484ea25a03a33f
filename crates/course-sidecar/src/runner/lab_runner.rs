//! The runner without a server, for `course lab follow`.

use std::sync::Arc;

use course_labs::Step;

use super::{ExitInfo, OutputLine, RunError, cancel, reset, start, stop_all};
use crate::state::{LabEntry, Limits, RunSlots, lock};

/// One lab's steps, run by a program of its own (`course lab follow`) with
/// exactly the code the sidecar's API runs them with: the same shell,
/// environment, timeouts, process groups, service slots and resets.
pub struct LabRunner {
    entry: Arc<LabEntry>,
    slots: RunSlots,
}

impl LabRunner {
    /// A runner for `lab`, whose learner's copy is (or will be) `dir`.
    pub fn new(lab: course_labs::Lab, dir: std::path::PathBuf, limits: Limits) -> LabRunner {
        LabRunner {
            entry: Arc::new(LabEntry::new(lab, dir, limits)),
            slots: RunSlots::new(&limits),
        }
    }

    /// The lab.
    pub fn lab(&self) -> &course_labs::Lab {
        &self.entry.lab
    }

    /// The learner's copy of the lab, where steps run.
    pub fn dir(&self) -> &std::path::Path {
        &self.entry.dir
    }

    fn step(&self, id: &str) -> Result<&Step, RunError> {
        self.entry
            .lab
            .steps
            .iter()
            .find(|s| s.id == id)
            .ok_or_else(|| RunError::UnknownStep(id.to_owned()))
    }

    /// Starts a step, as the page's Run button does.
    pub fn start(&self, step: &str) -> Result<(), RunError> {
        start(&self.slots, &self.entry, self.step(step)?)
    }

    /// Stops a running step and everything it started.
    pub fn cancel(&self, step: &str) -> Result<(), RunError> {
        cancel(&self.entry, self.step(step)?)
    }

    /// Whether the step runs now.
    pub fn is_running(&self, step: &str) -> bool {
        lock(&self.entry.steps)
            .by_id
            .get(step)
            .is_some_and(|s| s.running.is_some())
    }

    /// Waits until the step no longer runs, then says how its last command
    /// ended (`None` if it never ran).
    pub async fn wait(&self, step: &str) -> Option<ExitInfo> {
        loop {
            let exited = self.entry.exited.notified();
            {
                let steps = lock(&self.entry.steps);
                let run = steps.by_id.get(step);
                if run.is_none_or(|r| r.running.is_none()) {
                    return run.and_then(|r| r.last_exit.clone());
                }
            }
            exited.await;
        }
    }

    /// The output kept from the step's latest run (its cleanup's, after a
    /// reset), oldest first, and how many older lines were dropped.
    pub fn output(&self, step: &str) -> (Vec<OutputLine>, u64) {
        lock(&self.entry.steps)
            .by_id
            .get(step)
            .map(|r| (r.output.lines.iter().cloned().collect(), r.output.dropped))
            .unwrap_or_default()
    }

    /// Runs the step's check once, as the page's refresh does: whether it
    /// passed and what it found. `None` when the step has no check.
    pub async fn check(&self, step: &str) -> Option<(bool, String)> {
        let check = self.step(step).ok()?.check.as_ref()?;
        Some(crate::checks::run_check(check, &self.entry.dir).await)
    }

    /// Runs every check of the lab at once, as one refresh of the page
    /// does: per step, its id and, if it has a check, whether it passed and
    /// what it found.
    pub async fn check_all(&self) -> Vec<(String, Option<(bool, String)>)> {
        let dir = self.entry.dir.as_path();
        let probes = self.entry.lab.steps.iter().map(|step| async move {
            let outcome = match &step.check {
                Some(check) => Some(crate::checks::run_check(check, dir).await),
                None => None,
            };
            (step.id.clone(), outcome)
        });
        futures_util::future::join_all(probes).await
    }

    /// Resets the lab, as the page's Reset does, and waits until it is done:
    /// every run stopped with its process group, then every `cleanup` run.
    /// Returns the ids of the steps whose cleanup ran.
    pub async fn reset(&self) -> Result<Vec<String>, RunError> {
        let (ids, work) = reset(&self.slots, &self.entry)?;
        work.await;
        Ok(ids)
    }

    /// How the step's last cleanup ended, after a reset.
    pub fn last_exit(&self, step: &str) -> Option<ExitInfo> {
        lock(&self.entry.steps)
            .by_id
            .get(step)
            .and_then(|r| r.last_exit.clone())
    }

    /// Processes still alive in the process groups of the commands this
    /// runner started: after a reset there must be none.
    pub fn leftovers(&self) -> Vec<crate::proc::Leftover> {
        let groups = lock(&self.entry.steps).groups.clone();
        crate::proc::members_of(&groups)
    }

    /// Stops every run (shutdown, or a follower that gives up).
    pub async fn stop_all(&self) {
        stop_all(&[&self.entry]).await;
    }
}
