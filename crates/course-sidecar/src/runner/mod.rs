//! Running a lab's declared steps: one process group per run, output
//! streamed as events and kept (capped), time bounded, cancellable; and
//! resets, which stop the lab's runs and run their `cleanup` commands, the
//! last step's first.
//!
//! This is the one runner of steps. It knows nothing of HTTP: the sidecar's
//! API calls it for the page, and [`LabRunner`] is the same code for a
//! program that follows a lab on its own (`course lab follow`), so the page
//! and CI cannot disagree on how a step runs.
//!
//! The module follows a run's life: [`start()`] takes a slot and spawns,
//! `execute` pumps the output and waits for the end, [`cancel`] and
//! [`stop_all`] stop runs, and [`reset()`] stops them and runs the cleanups.

mod execute;
mod lab_runner;
mod reset;
mod start;
mod stop;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Notify;

pub use lab_runner::LabRunner;
pub(crate) use reset::reset;
pub(crate) use start::start;
pub(crate) use stop::{cancel, stop_all};

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
    /// The troubleshooting entry a failed run is known as, if one matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<crate::Known>,
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
struct StartEvent<'a> {
    step: &'a str,
    phase: Phase,
    started_at_ms: u64,
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
