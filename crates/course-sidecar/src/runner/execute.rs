//! A started command run to its end: its output split into lines, kept and
//! sent as events, its time bounded, its end recorded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Notify;

use super::{ExitInfo, ExitReason, OutputLine, Phase};
use crate::proc::{Proc, exit_parts};
use crate::state::{LabEntry, lock, now_ms};

/// Longest output line kept as one; longer ones are split.
const MAX_LINE_BYTES: usize = 4096;
/// After a command exits, how long its output may still trickle in (a
/// background child can hold the pipe open forever).
const DRAIN_GRACE: Duration = Duration::from_millis(500);

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

/// Records how a command ended and tells the watchers.
pub(super) async fn finish(entry: &Arc<LabEntry>, step_id: &str, mut exit: ExitInfo) {
    // A service that ends by itself failed, whatever its code: an MLflow
    // server whose port is taken exits with 0.
    let service = entry.lab.steps.iter().any(|s| s.id == step_id && s.service);
    if exit.phase == Phase::Run
        && exit.reason != ExitReason::Cancelled
        && (!exit.succeeded() || service)
    {
        // Finding who holds a port reads /proc, or runs lsof on macOS
        // (bounded at 2 s): not on the async workers.
        let (entry, step_id, code) = (Arc::clone(entry), step_id.to_owned(), exit.code);
        exit.known =
            tokio::task::spawn_blocking(move || crate::known::for_run(&entry, &step_id, code))
                .await
                .unwrap_or(None);
    }
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

pub(super) fn failed_to_start(phase: Phase) -> ExitInfo {
    ExitInfo {
        phase,
        reason: ExitReason::FailedToStart,
        code: None,
        signal: None,
        finished_at_ms: now_ms(),
        duration_ms: 0,
        known: None,
    }
}

/// Runs a started command to its end: output pumped line by line, stopped
/// when `limit` passes or `cancel` is notified.
pub(super) async fn execute(
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
        known: None,
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
