//! The doctor: before a lab's first step, is this machine ready for it?
//!
//! One report of items, each `ok`, `problem` or `unknown`, with a fix for
//! Linux, macOS and Windows (WSL): the version of every tool the lab
//! `requires`, whether each of its ports is free (and, if not, the command
//! name and pid of what holds it), free disk in the workspace's file system
//! and available memory against the lab's `needs_disk` and `needs_memory`,
//! the CPU architecture, and whether Docker answers where a step needs it.
//!
//! It only reads. The programs it runs are the lab's own `requires` tools
//! (each asked its version, by a fixed argument list, never through a
//! shell) and `docker info`; each has a time limit and capped output, and
//! the whole report has one too. On macOS, which has no `/proc`, two fixed
//! system readers stand in for it: `lsof` names a port's holder and
//! `vm_stat` tells available memory (2 s and 64 KiB each).

mod machine;
mod ports;
mod run;
#[cfg(test)]
mod tests;
mod tools;

use std::path::Path;
use std::time::{Duration, Instant};

use course_labs::{Lab, Need};
use serde::Serialize;
use tokio::sync::Semaphore;

use machine::{arch_item, disk_item, docker_item, memory_item};
use ports::port_items;
use tools::tool_item;
// What "Ask for help" reads too: one table of version commands, one bounded runner.
pub(crate) use run::{Ran, run_bounded};
pub(crate) use tools::version_command;

/// How long one item may take (a tool's version, `docker info`).
pub(crate) const ITEM_LIMIT: Duration = Duration::from_secs(5);
/// How long the whole report may take.
pub(crate) const TOTAL_LIMIT: Duration = Duration::from_secs(12);
/// Output kept of each program the doctor runs, per stream.
const MAX_OUTPUT: usize = 64 * 1024;
/// Longest detail shown of a program's own words.
const MAX_DETAIL: usize = 240;
/// Doctor reports computed at once, over all labs: more wait (429).
static RUNNING: Semaphore = Semaphore::const_new(2);

/// What one item found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum State {
    Ok,
    Problem,
    Unknown,
}

/// What to do about an item, on each system.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Fix {
    linux: String,
    macos: String,
    windows: String,
}

impl Fix {
    fn new(linux: &str, macos: &str, windows: &str) -> Fix {
        Fix {
            linux: linux.to_owned(),
            macos: macos.to_owned(),
            windows: windows.to_owned(),
        }
    }

    fn same(text: &str) -> Fix {
        Fix::new(text, text, text)
    }
}

/// The process that holds a port: its command name and pid, nothing more.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Holder {
    pub(crate) pid: i32,
    pub(crate) command: String,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Item {
    /// Stable within a lab: `tool-uv`, `port-5000`, `disk`, `memory`,
    /// `arch`, `docker`.
    pub(crate) id: String,
    pub(crate) kind: &'static str,
    pub(crate) title: String,
    pub(crate) state: State,
    /// What was found, in words.
    pub(crate) detail: String,
    /// Only some steps need it.
    pub(crate) optional: bool,
    pub(crate) fix: Option<Fix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) holder: Option<Holder>,
}

impl Item {
    fn new(id: String, kind: &'static str, title: String, state: State, detail: String) -> Item {
        Item {
            id,
            kind,
            title,
            state,
            detail,
            optional: false,
            fix: None,
            holder: None,
        }
    }

    fn fix(mut self, fix: Fix) -> Item {
        if self.state != State::Ok {
            self.fix = Some(fix);
        }
        self
    }
}

/// The whole report.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) lab: String,
    /// The system the sidecar runs on (`linux`, `macos`, `windows`…).
    pub(crate) os: &'static str,
    pub(crate) arch: &'static str,
    pub(crate) items: Vec<Item>,
    pub(crate) took_ms: u64,
}

/// The doctor could not start: too many reports at once.
#[derive(Debug)]
pub(crate) struct Busy;

/// Runs every item for `lab`, within [`TOTAL_LIMIT`]. `workspace` is the
/// learner's folder (its file system is the one measured); `groups` are the
/// process groups the sidecar started for the lab (a port they hold is the
/// lab's own).
pub(crate) async fn examine(lab: &Lab, workspace: &Path, groups: Vec<i32>) -> Result<Report, Busy> {
    let _permit = RUNNING.try_acquire().map_err(|_| Busy)?;
    let started = Instant::now();
    let tools = futures_util::future::join_all(lab.requires.iter().map(|r| {
        let min = r.version.clone();
        let tool = r.tool.clone();
        let optional = r.optional;
        async move {
            let mut item = tool_item(&tool, min.as_ref(), ITEM_LIMIT).await;
            item.optional = optional;
            item
        }
    }));
    let docker = async {
        if needs_docker(lab) {
            Some(docker_item(ITEM_LIMIT).await)
        } else {
            None
        }
    };
    let ports = {
        let lab = lab.clone();
        tokio::task::spawn_blocking(move || port_items(&lab, &groups))
    };
    let machine = {
        let ws = workspace.to_path_buf();
        let (disk, memory) = (lab.needs_disk, lab.needs_memory);
        tokio::task::spawn_blocking(move || (disk_item(&ws, disk), memory_item(memory)))
    };
    let all = async { tokio::join!(tools, docker, ports, machine) };
    let mut items = Vec::new();
    match tokio::time::timeout(TOTAL_LIMIT, all).await {
        Ok((tools, docker, ports, machine)) => {
            items.extend(tools);
            items.extend(ports.unwrap_or_default());
            if let Ok((disk, memory)) = machine {
                items.push(disk);
                items.push(memory);
            }
            items.push(arch_item());
            items.extend(docker);
        }
        Err(_) => items.push(Item::new(
            "doctor".into(),
            "doctor",
            "The machine check".into(),
            State::Unknown,
            format!(
                "the checks did not finish within {} s; run them again",
                TOTAL_LIMIT.as_secs()
            ),
        )),
    }
    Ok(Report {
        lab: lab.id.clone(),
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        items,
        took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// Whether a step of the lab needs a Docker engine, or the lab requires docker.
pub(crate) fn needs_docker(lab: &Lab) -> bool {
    lab.requires.iter().any(|r| r.tool == "docker")
        || lab.steps.iter().any(|s| {
            s.needs
                .iter()
                .any(|n| matches!(n, Need::Docker | Need::Registry))
        })
}
