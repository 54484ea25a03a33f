//! Running a lab's declared steps: one process group per run, output
//! streamed as events and kept (capped), time bounded, cancellable; and
//! resets, which stop the lab's runs and run their `cleanup` commands, the
//! last step's first.
//!
//! This is the one runner of steps. It knows nothing of HTTP: the sidecar's
//! API calls it for the page, and [`LabRunner`] is the same code for a
//! program that follows a lab on its own (`course lab follow`), so the page
//! and CI cannot disagree on how a step runs.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use course_labs::Step;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Notify;

use crate::proc::{Proc, STOP_GRACE, exit_parts};
use crate::state::{LabEntry, Limits, RunSlots, lock, now_ms};

/// Why a step, a cancel or a reset could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The step only explains; it has no `run`.
    #[error("this step has no command to run")]
    NoCommand,
    /// The learner's copy of the lab does not exist.
    #[error("the lab is not exported yet: export it first (POST /api/labs/{0}/export)")]
    NotExported(String),
    /// A reset is stopping the lab's runs and running its cleanups.
    #[error("the lab is being reset")]
    Resetting,
    /// The step is running already.
    #[error("this step is already running")]
    AlreadyRunning,
    /// Cancel of a step that does not run.
    #[error("this step is not running")]
    NotRunning,
    /// Every slot for this kind of command is taken.
    #[error("too many commands are running; wait for one to finish")]
    TooManyRuns,
    /// No step of the lab has this id.
    #[error("no step `{0}` in this lab")]
    UnknownStep(String),
    /// The shell could not be started.
    #[error("could not start the command: {0}")]
    Spawn(#[source] std::io::Error),
}

/// Longest output line kept as one; longer ones are split.
const MAX_LINE_BYTES: usize = 4096;
/// After a command exits, how long its output may still trickle in (a
/// background child can hold the pipe open forever).
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// The runs of one lab.
#[derive(Default)]
pub(crate) struct Steps {
    pub(crate) by_id: HashMap<String, StepRun>,
    /// A reset is in progress: no step may start.
    pub(crate) resetting: bool,
    /// Process group ids of every command started for the lab, so that
    /// what is left of them can be found (and only them).
    pub(crate) groups: Vec<i32>,
}

/// The live and last run of one step.
#[derive(Default)]
pub(crate) struct StepRun {
    pub(crate) running: Option<Running>,
    pub(crate) output: OutputLog,
    pub(crate) last_exit: Option<ExitInfo>,
}

pub(crate) struct Running {
    cancel: Arc<Notify>,
    pub(crate) started_at_ms: u64,
}

/// The newest output lines of a run, at most a byte budget of them.
#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct OutputLog {
    pub(crate) lines: VecDeque<OutputLine>,
    /// Older lines dropped to stay within the budget.
    pub(crate) dropped: u64,
    #[serde(skip)]
    bytes: usize,
}

impl OutputLog {
    fn push(&mut self, line: OutputLine, budget: usize) {
        self.bytes += line.text.len();
        self.lines.push_back(line);
        while self.bytes > budget {
            let Some(old) = self.lines.pop_front() else {
                break;
            };
            self.bytes -= old.text.len();
            self.dropped += 1;
        }
    }
}

/// One line of output.
#[derive(Debug, Clone, Serialize)]
pub struct OutputLine {
    /// `stdout` or `stderr`.
    pub stream: &'static str,
    /// The step's own command, or its cleanup.
    pub phase: Phase,
    /// The line, without its line break (invalid UTF-8 replaced).
    pub text: String,
}

/// A step's own command, or its cleanup during a reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The step's `run`.
    Run,
    /// The step's `cleanup`, during a reset.
    Cleanup,
}

/// Why a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// By itself (its code says how).
    Exited,
    /// Stopped when its time ran out.
    TimedOut,
    /// Stopped by a cancel, a reset, a step that replaces it, or shutdown.
    Cancelled,
    /// The shell could not be started.
    FailedToStart,
}

/// How a command ended, as the `exit` event and the status report it.
#[derive(Debug, Clone, Serialize)]
pub struct ExitInfo {
    /// Run or cleanup.
    pub phase: Phase,
    /// Why it ended.
    pub reason: ExitReason,
    /// The exit code, when the command exited by itself.
    pub code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    /// When it ended, in Unix milliseconds.
    pub finished_at_ms: u64,
    /// How long it ran.
    pub duration_ms: u64,
}

impl ExitInfo {
    /// It exited by itself with code 0.
    pub fn succeeded(&self) -> bool {
        self.reason == ExitReason::Exited && self.code == Some(0)
    }

    /// How it ended, in words.
    pub fn describe(&self) -> String {
        let ran = format!("{:.1} s", self.duration_ms as f64 / 1000.0);
        match (self.reason, self.code, self.signal) {
            (ExitReason::Exited, Some(127), _) => {
                format!("exited with code 127 (a command was not found) after {ran}")
            }
            (ExitReason::Exited, Some(126), _) => {
                format!("exited with code 126 (a command could not be run) after {ran}")
            }
            (ExitReason::Exited, Some(code), _) => format!("exited with code {code} after {ran}"),
            (ExitReason::Exited, None, Some(sig)) => {
                format!("was killed by signal {sig} after {ran}")
            }
            (ExitReason::Exited, None, None) => format!("ended after {ran}"),
            (ExitReason::TimedOut, ..) => format!("ran out of time after {ran} and was stopped"),
            (ExitReason::Cancelled, ..) => format!("was stopped after {ran}"),
            (ExitReason::FailedToStart, ..) => "could not be started".to_owned(),
        }
    }
}

#[derive(Serialize)]
struct OutputEvent<'a> {
    step: &'a str,
    #[serde(flatten)]
    line: &'a OutputLine,
}

#[derive(Serialize)]
struct ExitEvent<'a> {
    step: &'a str,
    #[serde(flatten)]
    exit: &'a ExitInfo,
}

#[derive(Serialize)]
struct StartEvent<'a> {
    step: &'a str,
    phase: Phase,
    started_at_ms: u64,
}

#[derive(Serialize)]
struct ResetEvent<'a> {
    done: bool,
    cleanups: &'a [String],
}

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
        finish(&entry, &step_id, exit);
        drop(slot);
    });
    Ok(())
}

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
            finish(&entry, step_id, exit);
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
async fn wait_until_stopped(entry: &LabEntry, ids: &[String]) {
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

/// Records how a command ended and tells the watchers.
fn finish(entry: &LabEntry, step_id: &str, exit: ExitInfo) {
    {
        let mut steps = lock(&entry.steps);
        let run = steps.by_id.entry(step_id.to_owned()).or_default();
        if exit.phase == Phase::Run {
            run.running = None;
        }
        run.last_exit = Some(exit.clone());
    }
    entry.exited.notify_waiters();
    tracing::debug!(lab = %entry.lab.id, step = %step_id, reason = ?exit.reason, code = ?exit.code, "command ended");
    entry.send(
        "exit",
        &ExitEvent {
            step: step_id,
            exit: &exit,
        },
    );
}

fn failed_to_start(phase: Phase) -> ExitInfo {
    ExitInfo {
        phase,
        reason: ExitReason::FailedToStart,
        code: None,
        signal: None,
        finished_at_ms: now_ms(),
        duration_ms: 0,
    }
}

/// Runs a started command to its end: output pumped line by line, stopped
/// when `limit` passes or `cancel` is notified.
async fn execute(
    entry: &Arc<LabEntry>,
    step_id: &str,
    phase: Phase,
    mut proc: Proc,
    limit: Option<Duration>,
    cancel: Option<&Notify>,
) -> ExitInfo {
    let started = Instant::now();
    let (stdout, stderr) = proc.take_output();
    let pumps = [
        tokio::spawn(pump(
            entry.clone(),
            step_id.to_owned(),
            phase,
            "stdout",
            stdout,
        )),
        tokio::spawn(pump(
            entry.clone(),
            step_id.to_owned(),
            phase,
            "stderr",
            stderr,
        )),
    ];
    enum Ended {
        Exited(std::io::Result<std::process::ExitStatus>),
        TimedOut,
        Cancelled,
    }
    let ended = tokio::select! {
        status = proc.wait() => Ended::Exited(status),
        () = sleep_for(limit) => Ended::TimedOut,
        () = notified(cancel) => Ended::Cancelled,
    };
    let (reason, status) = match ended {
        Ended::Exited(status) => (ExitReason::Exited, status),
        Ended::TimedOut => (ExitReason::TimedOut, proc.stop().await),
        Ended::Cancelled => (ExitReason::Cancelled, proc.stop().await),
    };
    let aborts: Vec<_> = pumps.iter().map(|p| p.abort_handle()).collect();
    if tokio::time::timeout(DRAIN_GRACE, futures_util::future::join_all(pumps))
        .await
        .is_err()
    {
        aborts.iter().for_each(|a| a.abort());
    }
    let (code, signal) = match &status {
        Ok(status) => exit_parts(status),
        Err(e) => {
            tracing::error!(lab = %entry.lab.id, step = %step_id, "could not wait for a command: {e}");
            (None, None)
        }
    };
    ExitInfo {
        phase,
        reason,
        code,
        signal,
        finished_at_ms: now_ms(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

async fn sleep_for(limit: Option<Duration>) {
    match limit {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

async fn notified(cancel: Option<&Notify>) {
    match cancel {
        Some(n) => n.notified().await,
        None => std::future::pending().await,
    }
}

/// Splits a stream into lines (at most [`MAX_LINE_BYTES`] each), keeps them
/// in the step's log and sends each as an `output` event.
async fn pump(
    entry: Arc<LabEntry>,
    step_id: String,
    phase: Phase,
    stream: &'static str,
    reader: Option<impl AsyncRead + Unpin>,
) {
    let Some(mut reader) = reader else {
        return;
    };
    let emit = |bytes: &[u8]| {
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let line = OutputLine {
            stream,
            phase,
            text: String::from_utf8_lossy(bytes).into_owned(),
        };
        entry.send(
            "output",
            &OutputEvent {
                step: &step_id,
                line: &line,
            },
        );
        let budget = entry.limits.max_output_bytes;
        lock(&entry.steps)
            .by_id
            .entry(step_id.clone())
            .or_default()
            .output
            .push(line, budget);
    };
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = reader.read(&mut buf).await {
        if n == 0 {
            break;
        }
        pending.extend_from_slice(&buf[..n]);
        let mut start = 0;
        while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
            emit(&pending[start..start + nl]);
            start += nl + 1;
        }
        pending.drain(..start);
        while pending.len() >= MAX_LINE_BYTES {
            emit(&pending[..MAX_LINE_BYTES]);
            pending.drain(..MAX_LINE_BYTES);
        }
    }
    if !pending.is_empty() {
        emit(&pending);
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> OutputLine {
        OutputLine {
            stream: "stdout",
            phase: Phase::Run,
            text: text.into(),
        }
    }

    #[test]
    fn output_log_keeps_the_newest_lines_within_budget() {
        let mut log = OutputLog::default();
        for i in 0..100 {
            log.push(line(&format!("line {i:03}")), 80);
        }
        assert!(log.bytes <= 80);
        assert_eq!(log.lines.back().map(|l| l.text.as_str()), Some("line 099"));
        assert_eq!(log.dropped as usize + log.lines.len(), 100);
        log.push(line(&"x".repeat(200)), 80);
        assert!(log.lines.is_empty() && log.bytes == 0);
    }
}
