//! Running a lab's declared steps: one process group per run, output
//! streamed as events and kept (capped), time bounded, cancellable; and
//! resets, which stop the lab's runs and run its `cleanup` commands in order.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use course_labs::Step;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{Notify, OwnedSemaphorePermit};

use crate::api::ApiError;
use crate::proc::{Proc, STOP_GRACE, exit_parts};
use crate::state::{AppState, LabEntry, lock, now_ms};

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
pub(crate) struct OutputLine {
    pub(crate) stream: &'static str,
    pub(crate) phase: Phase,
    pub(crate) text: String,
}

/// A step's own command, or its cleanup during a reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Phase {
    Run,
    Cleanup,
}

/// Why a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ExitReason {
    Exited,
    TimedOut,
    Cancelled,
    FailedToStart,
}

/// How a command ended, as the `exit` event and the status report it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ExitInfo {
    pub(crate) phase: Phase,
    pub(crate) reason: ExitReason,
    /// The exit code, when the command exited by itself.
    pub(crate) code: Option<i32>,
    /// The signal that ended it, if one did.
    pub(crate) signal: Option<i32>,
    pub(crate) finished_at_ms: u64,
    pub(crate) duration_ms: u64,
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

fn run_slot(state: &AppState) -> Result<OwnedSemaphorePermit, ApiError> {
    state
        .shared
        .run_slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::TooManyRuns)
}

fn not_exported(entry: &LabEntry) -> ApiError {
    ApiError::Conflict(format!(
        "the lab is not exported yet: export it first (POST /api/labs/{}/export)",
        entry.lab.id
    ))
}

/// Starts `step`'s command in the learner's copy of the lab.
pub(crate) fn start(state: &AppState, entry: &Arc<LabEntry>, step: &Step) -> Result<(), ApiError> {
    let Some(command) = &step.run else {
        return Err(ApiError::Conflict("this step has no command to run".into()));
    };
    if !entry.exported() {
        return Err(not_exported(entry));
    }
    let mut steps = lock(&entry.steps);
    if steps.resetting {
        return Err(ApiError::Conflict("the lab is being reset".into()));
    }
    if steps
        .by_id
        .get(&step.id)
        .is_some_and(|s| s.running.is_some())
    {
        return Err(ApiError::Conflict("this step is already running".into()));
    }
    let slot = run_slot(state)?;
    let proc = Proc::spawn(command, &entry.dir).map_err(|e| {
        tracing::error!(lab = %entry.lab.id, step = %step.id, "could not start a step: {e}");
        ApiError::Internal
    })?;
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
    tracing::info!(lab = %entry.lab.id, step = %step.id, "step started");
    let limit = (!step.service).then_some(step.timeout);
    let entry = entry.clone();
    let step_id = step.id.clone();
    tokio::spawn(async move {
        let exit = execute(&entry, &step_id, Phase::Run, proc, limit, Some(&cancel)).await;
        finish(&entry, &step_id, exit);
        drop(slot);
    });
    Ok(())
}

/// Asks a running step to stop: SIGTERM to its process group, SIGKILL
/// after a grace period.
pub(crate) fn cancel(entry: &LabEntry, step: &Step) -> Result<(), ApiError> {
    let steps = lock(&entry.steps);
    match steps.by_id.get(&step.id).and_then(|s| s.running.as_ref()) {
        Some(running) => {
            running.cancel.notify_one();
            Ok(())
        }
        None => Err(ApiError::Conflict("this step is not running".into())),
    }
}

/// Stops the lab's runs, then runs every step's `cleanup` in order, in the
/// background. Returns the ids of the steps whose cleanup will run.
pub(crate) fn reset(state: &AppState, entry: &Arc<LabEntry>) -> Result<Vec<String>, ApiError> {
    if !entry.exported() {
        return Err(not_exported(entry));
    }
    let mut steps = lock(&entry.steps);
    if steps.resetting {
        return Err(ApiError::Conflict("the lab is already being reset".into()));
    }
    let slot = run_slot(state)?;
    steps.resetting = true;
    for running in steps.by_id.values().filter_map(|s| s.running.as_ref()) {
        running.cancel.notify_one();
    }
    drop(steps);
    let cleanups: Vec<(String, String)> = entry
        .lab
        .steps
        .iter()
        .filter_map(|s| Some((s.id.clone(), s.cleanup.clone()?)))
        .collect();
    let ids: Vec<String> = cleanups.iter().map(|(id, _)| id.clone()).collect();
    let entry = entry.clone();
    let reported = ids.clone();
    tokio::spawn(async move {
        wait_until_stopped(&entry).await;
        for (step_id, command) in &cleanups {
            let exit = match Proc::spawn(command, &entry.dir) {
                Ok(proc) => {
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
    });
    Ok(ids)
}

/// Stops every run of every lab and waits for them to end (shutdown).
pub(crate) async fn stop_all(state: &AppState) {
    for entry in state.entries() {
        let steps = lock(&entry.steps);
        for running in steps.by_id.values().filter_map(|s| s.running.as_ref()) {
            running.cancel.notify_one();
        }
    }
    for entry in state.entries() {
        wait_until_stopped(entry).await;
    }
}

/// Waits until no step of the lab runs, at most a little longer than a
/// stop takes.
async fn wait_until_stopped(entry: &LabEntry) {
    let deadline = Instant::now() + STOP_GRACE + Duration::from_secs(2);
    while Instant::now() < deadline
        && lock(&entry.steps)
            .by_id
            .values()
            .any(|s| s.running.is_some())
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
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
    tracing::info!(lab = %entry.lab.id, step = %step_id, reason = ?exit.reason, code = ?exit.code, "command ended");
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
