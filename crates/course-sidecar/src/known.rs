//! Known failures: a failed step or check matched against the
//! troubleshooting entries of its lab's module and of the appendix, so the
//! page can show the entry's fix. Never a guess: no match, no field.
//!
//! The entries (their patterns compiled once, when the sidecar starts) come
//! from the book through [`crate::Settings::known`]; each lab keeps those of
//! its module, then the appendix's, in that order of preference.

use course_labs::troubleshoot::{Entry, Failure, tail};
use serde::Serialize;

use crate::proc;
use crate::runner::Phase;
use crate::state::{LabEntry, lock};

/// The entry a failure is known as, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Known {
    /// The entry's heading.
    pub title: String,
    /// A few sentences of its text.
    pub fix: String,
    /// Its address relative to the book root, with the anchor.
    pub href: String,
}

impl Known {
    /// The first of `entries` that `f` matches, with the fix of the symptom
    /// that matched.
    fn first(entries: &[Entry], f: &Failure<'_>) -> Option<Known> {
        entries.iter().find_map(|e| {
            e.matching(f).map(|symptom| Known {
                title: e.title.clone(),
                fix: e.fix_for(symptom).to_owned(),
                href: e.href(),
            })
        })
    }
}

/// The entries that count for a lab of `module`: the module's, then the
/// appendix's.
pub(crate) fn for_module(all: &[Entry], module: u8) -> Vec<Entry> {
    let of = |m: Option<u8>| all.iter().filter(move |e| e.module == m).cloned();
    of(Some(module)).chain(of(None)).collect()
}

/// The entry that a failed run of `entry`'s step `step_id`, which exited
/// with `exit`, is known as, from what the run printed (the log keeps its
/// newest lines; the patterns see the last [`course_labs::troubleshoot::TAIL_BYTES`] of them). A port
/// counts as held when a process that is not one of the lab's listens on it.
pub(crate) fn for_run(entry: &LabEntry, step_id: &str, exit: Option<i32>) -> Option<Known> {
    if entry.known.is_empty() {
        return None;
    }
    let (output, groups) = {
        let steps = lock(&entry.steps);
        let mut output = String::new();
        if let Some(run) = steps.by_id.get(step_id) {
            for line in run.output.lines.iter().filter(|l| l.phase == Phase::Run) {
                output.push_str(&line.text);
                output.push('\n');
            }
        }
        (output, steps.groups.clone())
    };
    let output = tail(&output);
    let held = |port: u16| {
        proc::port_listener(port)
            .is_some_and(|(pid, _)| !proc::members_of(&groups).iter().any(|m| m.pid == pid))
    };
    let f = Failure {
        output,
        check: None,
        exit,
        held: &held,
    };
    Known::first(&entry.known, &f)
}

/// The entry that a failed check of `entry`'s, with `message`, is known as.
/// Ports count only for runs: a check does not start what could collide.
pub(crate) fn for_check(entry: &LabEntry, message: &str) -> Option<Known> {
    let f = Failure {
        output: "",
        check: Some(message),
        exit: None,
        held: &|_| false,
    };
    Known::first(&entry.known, &f)
}
