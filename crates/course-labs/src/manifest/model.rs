//! The validated lab: what the rest of the workspace reads.

use std::path::PathBuf;
use std::time::Duration;

use crate::files::LabFile;
use crate::version::Version;

/// A validated lab: everything in `lab.yaml`, with its files resolved.
#[derive(Debug, Clone)]
pub struct Lab {
    /// Stable id, equal to the folder name.
    pub id: String,
    /// Human title.
    pub title: String,
    /// Course module the lab belongs to (0–99).
    pub module: u8,
    /// One paragraph on what the learner builds.
    pub summary: String,
    /// Expected time in minutes.
    pub minutes: u32,
    /// Tools the lab needs, with minimum versions.
    pub requires: Vec<Requirement>,
    /// Every port the lab binds.
    pub ports: Vec<Port>,
    /// Labs meant to run at the same time as this one (their ports must not clash).
    pub runs_with: Vec<String>,
    /// Files shown and exported, in manifest order.
    pub files: Vec<LabFile>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The lab's folder.
    pub dir: PathBuf,
    /// Where `lab.yaml` is.
    pub manifest_path: PathBuf,
    /// Line of each `runs_with` entry, for diagnostics.
    pub runs_with_lines: Vec<u64>,
    /// Free disk the lab needs in the workspace's file system, in bytes
    /// (its environments, images and data), if declared.
    pub needs_disk: Option<u64>,
    /// Memory the lab needs available while it runs, in bytes, if declared.
    pub needs_memory: Option<u64>,
}

/// A tool the lab needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Tool name as the learner knows it (`python`, `uv`, `docker`…).
    pub tool: String,
    /// Minimum version, if any.
    pub version: Option<Version>,
    /// Needed only for some steps.
    pub optional: bool,
}

/// A port the lab binds, and what listens there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// TCP port on the learner's machine.
    pub port: u16,
    /// What listens on it.
    pub service: String,
    /// Line in lab.yaml, for diagnostics.
    pub line: u64,
}

/// One step of a lab.
#[derive(Debug, Clone)]
pub struct Step {
    /// Stable id: progress is keyed by it.
    pub id: String,
    /// Short title.
    pub title: String,
    /// Markdown text that explains the step.
    pub text: String,
    /// Shell command, run in the learner's copy of the lab.
    pub run: Option<String>,
    /// The command starts a long-running service (stopped by cancel or reset).
    pub service: bool,
    /// How long the command may run.
    pub timeout: Duration,
    /// What shows that the step worked.
    pub check: Option<Check>,
    /// Shell command that undoes the step.
    pub cleanup: Option<String>,
    /// What the step needs beyond the lab's own tools (a Docker engine, a
    /// Kubernetes cluster, a GitHub repository); where it is missing the
    /// step is skipped, never counted as passed.
    pub needs: Vec<Need>,
    /// The step may be run again, so its check may already pass before it
    /// runs (a follower accepts that instead of calling the check useless).
    pub rerunnable: bool,
    /// Services of earlier steps that this step replaces: they are stopped
    /// before it starts (they hold a port it binds, say).
    pub stops: Vec<String>,
}

/// Something a step needs that not every machine has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Need {
    /// A running Docker engine (`docker info` answers).
    Docker,
    /// A Kubernetes cluster that `kubectl` reaches (kind, say).
    Kubernetes,
    /// A GitHub repository of the learner's, with Actions.
    Github,
    /// A Docker engine that can pull from public image registries (an image
    /// the course's test engine has no stand-in for, such as Grafana's).
    Registry,
}

impl Need {
    /// Every need, in manifest spelling.
    pub const ALL: [Need; 4] = [Need::Docker, Need::Kubernetes, Need::Github, Need::Registry];

    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Need::Docker => "docker",
            Need::Kubernetes => "kubernetes",
            Need::Github => "github",
            Need::Registry => "registry",
        }
    }

    /// What the step needs, as a reason to skip it.
    pub fn describe(self) -> &'static str {
        match self {
            Need::Docker => "a Docker engine",
            Need::Kubernetes => "a Kubernetes cluster",
            Need::Github => "a GitHub repository",
            Need::Registry => "images from a public registry",
        }
    }

    /// Parses the manifest spelling.
    pub fn parse(s: &str) -> Option<Need> {
        Need::ALL.into_iter().find(|n| n.as_str() == s)
    }
}

/// A check: something the sidecar can probe to tell whether a step worked.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// What to probe.
    pub spec: CheckSpec,
    /// How long the probe may take.
    pub timeout: Duration,
    /// Shown to the learner when the check fails.
    pub hint: Option<String>,
}

/// HTTP methods a check may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
}

impl HttpMethod {
    /// The method as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
        }
    }
}

/// The four kinds of check.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckSpec {
    /// An HTTP request to a loopback URL answers with a status and, optionally,
    /// a JSON body that contains the given subset.
    Http {
        /// `http://127.0.0.1:PORT/...` or `http://localhost:PORT/...`.
        url: String,
        /// Request method.
        method: HttpMethod,
        /// Request body (sent as JSON when it parses as JSON).
        body: Option<String>,
        /// Expected status.
        status: u16,
        /// Expected JSON subset of the response body.
        json: Option<serde_json::Value>,
    },
    /// A TCP port on the loopback interface accepts connections.
    Tcp {
        /// Loopback host.
        host: String,
        /// Port.
        port: u16,
    },
    /// A file exists in the learner's copy of the lab (and contains a text).
    File {
        /// Path relative to the lab folder.
        path: String,
        /// Text the file must contain.
        contains: Option<String>,
    },
    /// A shell command exits 0 in time (its output may have to contain a
    /// text, or name a version at least this high).
    Command {
        /// Shell command.
        command: String,
        /// Text the output must contain.
        contains: Option<String>,
        /// Minimum version found in the output.
        min_version: Option<Version>,
    },
}

impl CheckSpec {
    /// One line that says what the check verifies, for the page.
    pub fn describe(&self) -> String {
        match self {
            CheckSpec::Http {
                url,
                method,
                status,
                json,
                ..
            } => {
                let mut s = format!("{} {url} answers {status}", method.as_str());
                if let Some(json) = json {
                    s.push_str(&format!(" with JSON containing {json}"));
                }
                s
            }
            CheckSpec::Tcp { host, port } => format!("something listens on {host}:{port}"),
            CheckSpec::File {
                path,
                contains: None,
            } => format!("the file {path} exists"),
            CheckSpec::File {
                path,
                contains: Some(c),
            } => format!("the file {path} contains “{c}”"),
            CheckSpec::Command {
                command,
                contains,
                min_version,
            } => {
                let mut s = format!("the command “{command}” succeeds");
                if let Some(v) = min_version {
                    s.push_str(&format!(" and reports version ≥ {v}"));
                }
                if let Some(c) = contains {
                    s.push_str(&format!(" and prints “{c}”"));
                }
                s
            }
        }
    }

    /// The kind's name as written in lab.yaml.
    pub fn kind(&self) -> &'static str {
        match self {
            CheckSpec::Http { .. } => "http",
            CheckSpec::Tcp { .. } => "tcp",
            CheckSpec::File { .. } => "file",
            CheckSpec::Command { .. } => "command",
        }
    }
}
