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

use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use course_labs::{Lab, Need, Version};
use serde::Serialize;
use tokio::process::Command;
use tokio::sync::Semaphore;

use crate::proc::{members_of, port_listener, read_capped};

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

// ------------------------------------------------------------------ tools

/// How a tool is asked its version, and how it is installed.
struct ToolSpec {
    name: &'static str,
    program: &'static str,
    args: &'static [&'static str],
    linux: &'static str,
    macos: &'static str,
    windows: &'static str,
}

const WSL: &str = "in your WSL terminal, as on Linux: ";

const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "python",
        program: "python3",
        args: &["--version"],
        linux: "`sudo apt install python3` (Debian, Ubuntu), or let uv install one: `uv python install 3.12`",
        macos: "`brew install python@3.12`, or let uv install one: `uv python install 3.12`",
        windows: "in your WSL terminal: `sudo apt install python3`, or `uv python install 3.12`",
    },
    ToolSpec {
        name: "uv",
        program: "uv",
        args: &["--version"],
        linux: "`curl -LsSf https://astral.sh/uv/install.sh | sh`, then open a new terminal; to update, `uv self update`",
        macos: "`brew install uv` (to update, `brew upgrade uv`)",
        windows: "in your WSL terminal: `curl -LsSf https://astral.sh/uv/install.sh | sh`, then open a new terminal",
    },
    ToolSpec {
        name: "git",
        program: "git",
        args: &["--version"],
        linux: "`sudo apt install git`",
        macos: "`xcode-select --install`, or `brew install git`",
        windows: "in your WSL terminal: `sudo apt install git`",
    },
    ToolSpec {
        name: "curl",
        program: "curl",
        args: &["--version"],
        linux: "`sudo apt install curl`",
        macos: "curl comes with macOS; `brew install curl` for a newer one",
        windows: "in your WSL terminal: `sudo apt install curl`",
    },
    ToolSpec {
        name: "docker",
        program: "docker",
        args: &["--version"],
        linux: "install Docker Engine from docs.docker.com/engine/install (the distribution's `docker.io` may be too old), then `sudo usermod -aG docker $USER` and log in again",
        macos: "install Docker Desktop, or Colima: `brew install colima docker docker-buildx docker-compose`, then `colima start`",
        windows: "install Docker Desktop with the WSL 2 backend, and turn on Settings › Resources › WSL integration for your distribution",
    },
    ToolSpec {
        name: "kubectl",
        program: "kubectl",
        args: &["version", "--client"],
        linux: "the binary from kubernetes.io/docs/tasks/tools/install-kubectl-linux, into a folder on your PATH",
        macos: "`brew install kubectl`",
        windows: "in your WSL terminal, the Linux binary from kubernetes.io/docs/tasks/tools/install-kubectl-linux",
    },
    ToolSpec {
        name: "kind",
        program: "kind",
        args: &["version"],
        linux: "the release binary from kind.sigs.k8s.io/docs/user/quick-start, into a folder on your PATH",
        macos: "`brew install kind`",
        windows: "in your WSL terminal, the Linux release binary from kind.sigs.k8s.io/docs/user/quick-start",
    },
    ToolSpec {
        name: "helm",
        program: "helm",
        args: &["version", "--short"],
        linux: "the script of helm.sh/docs/intro/install (`get-helm-4`)",
        macos: "`brew install helm`",
        windows: "in your WSL terminal, the script of helm.sh/docs/intro/install",
    },
    ToolSpec {
        name: "prometheus",
        program: "prometheus",
        args: &["--version"],
        linux: "the release tarball from prometheus.io/download; put `prometheus` and `promtool` on your PATH",
        macos: "`brew install prometheus`",
        windows: "in your WSL terminal, the Linux tarball from prometheus.io/download",
    },
    ToolSpec {
        name: "promtool",
        program: "promtool",
        args: &["--version"],
        linux: "it comes in Prometheus's release tarball (prometheus.io/download); put it on your PATH",
        macos: "`brew install prometheus` (promtool comes with it)",
        windows: "in your WSL terminal, from the Linux tarball of prometheus.io/download",
    },
    ToolSpec {
        name: "amtool",
        program: "amtool",
        args: &["--version"],
        linux: "it comes in Alertmanager's release tarball (prometheus.io/download); put it on your PATH",
        macos: "`brew install alertmanager` (amtool comes with it)",
        windows: "in your WSL terminal, from Alertmanager's Linux tarball of prometheus.io/download",
    },
];

/// The program and arguments that print `tool`'s version: from the table,
/// else `TOOL --version` when the name is a plain program name. Anything
/// with a path separator, a space or a shell character is never run.
pub(crate) fn version_command(tool: &str) -> Option<(&str, &'static [&'static str])> {
    if let Some(spec) = TOOLS.iter().find(|t| t.name == tool) {
        return Some((spec.program, spec.args));
    }
    let plain = !tool.is_empty()
        && tool.len() <= 64
        && !tool.starts_with(['-', '.'])
        && tool
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    plain.then_some((tool, &["--version"][..]))
}

fn tool_fix(tool: &str) -> Fix {
    match TOOLS.iter().find(|t| t.name == tool) {
        Some(t) => Fix::new(t.linux, t.macos, t.windows),
        None => Fix::new(
            &format!("install {tool} with your package manager (`sudo apt install {tool}`, say)"),
            &format!("install {tool} with Homebrew (`brew install {tool}`, say)"),
            &format!("{WSL}install {tool} with `sudo apt install {tool}`"),
        ),
    }
}

/// The tool's version against `min`.
pub(crate) async fn tool_item(tool: &str, min: Option<&Version>, limit: Duration) -> Item {
    let title = match min {
        Some(v) => format!("{tool} {v} or newer"),
        None => tool.to_owned(),
    };
    let item =
        |state, detail| Item::new(format!("tool-{tool}"), "tool", title.clone(), state, detail);
    let Some((program, args)) = version_command(tool) else {
        return item(
            State::Unknown,
            format!("“{tool}” is not a program name the doctor runs; check it yourself"),
        );
    };
    let shown = format!("{program} {}", args.join(" "));
    let state_detail = match run_bounded(Path::new(program), args, limit).await {
        Ran::Missing => (
            State::Problem,
            format!("{program} is not installed (not found on the PATH)"),
        ),
        Ran::TimedOut => (
            State::Unknown,
            format!("`{shown}` did not answer within {} s", limit.as_secs()),
        ),
        Ran::Failed(e) => (
            State::Unknown,
            format!("`{shown}` could not run: {}", clip(&e)),
        ),
        Ran::Exited { ok, output } => judge_version(&shown, ok, &output, min),
    };
    item(state_detail.0, state_detail.1).fix(tool_fix(tool))
}

/// A tool's answer to its version command, against the minimum.
pub(crate) fn judge_version(
    shown: &str,
    ok: bool,
    output: &str,
    min: Option<&Version>,
) -> (State, String) {
    let found = Version::find_in(output);
    match (ok, found, min) {
        (false, _, _) => (
            State::Unknown,
            format!("`{shown}` failed: {}", clip(first_line(output))),
        ),
        (true, None, None) => (
            State::Ok,
            format!("installed ({})", clip(first_line(output))),
        ),
        (true, None, Some(_)) => (
            State::Unknown,
            format!("`{shown}` names no version: {}", clip(first_line(output))),
        ),
        (true, Some(v), Some(min)) if v < *min => (
            State::Problem,
            format!("found {v}; this lab needs {min} or newer"),
        ),
        (true, Some(v), _) => (State::Ok, format!("found {v}")),
    }
}

// ----------------------------------------------------------------- docker

async fn docker_item(limit: Duration) -> Item {
    let item = |state, detail: String| {
        Item::new(
            "docker".into(),
            "docker",
            "Docker engine running".into(),
            state,
            detail,
        )
    };
    let args = &["info", "--format", "{{.ServerVersion}}"];
    let (state, detail) = match run_bounded(Path::new("docker"), args, limit).await {
        Ran::Missing => (
            State::Problem,
            "docker is not installed, so no engine answers".to_owned(),
        ),
        Ran::TimedOut => (
            State::Problem,
            format!(
                "`docker info` did not answer within {} s: the engine is stuck or starting",
                limit.as_secs()
            ),
        ),
        Ran::Failed(e) => (
            State::Unknown,
            format!("`docker info` could not run: {}", clip(&e)),
        ),
        Ran::Exited { ok: true, output } => (
            State::Ok,
            format!("Docker Engine {} answers", clip(first_line(&output))),
        ),
        Ran::Exited { ok: false, output } => (
            State::Problem,
            format!("the engine is not running: {}", clip(first_line(&output))),
        ),
    };
    item(state, detail).fix(Fix::new(
        "start it: `sudo systemctl start docker` (and `sudo usermod -aG docker $USER`, then log in again, if it says permission denied)",
        "start Docker Desktop (or `colima start`) and wait until it says it is running",
        "start Docker Desktop; under Settings › Resources › WSL integration, turn on your distribution",
    ))
}

// ------------------------------------------------------------------ ports

fn port_items(lab: &Lab, groups: &[i32]) -> Vec<Item> {
    let own: Vec<i32> = members_of(groups).into_iter().map(|l| l.pid).collect();
    lab.ports
        .iter()
        .map(|p| {
            let title = format!("Port {} free ({})", p.port, p.service);
            let id = format!("port-{}", p.port);
            let free = match TcpListener::bind((Ipv4Addr::LOCALHOST, p.port)) {
                Ok(_) => true,
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => false,
                Err(e) => {
                    return Item::new(
                        id,
                        "port",
                        title,
                        State::Unknown,
                        format!("could not test the port: {}", clip(&e.to_string())),
                    );
                }
            };
            if free {
                return Item::new(id, "port", title, State::Ok, "free".into());
            }
            let holder = port_listener(p.port).map(|(pid, line)| Holder {
                pid,
                command: command_name(&line),
            });
            let mut item = match &holder {
                Some(h) if own.contains(&h.pid) => Item::new(
                    id,
                    "port",
                    title,
                    State::Ok,
                    format!(
                        "in use by this lab's own service: {} (pid {})",
                        h.command, h.pid
                    ),
                ),
                Some(h) => Item::new(
                    id,
                    "port",
                    title,
                    State::Problem,
                    format!("in use by {} (pid {})", h.command, h.pid),
                ),
                None => Item::new(
                    id,
                    "port",
                    title,
                    State::Problem,
                    "in use by a process the sidecar cannot see (another user's, or a container's)"
                        .into(),
                ),
            };
            item.holder = holder;
            let port = p.port;
            item.fix(Fix::new(
                &format!("stop what holds it (`ss -ltnp 'sport = :{port}'` names it), or stop another lab's services first"),
                &format!("stop what holds it (`lsof -nP -iTCP:{port} -sTCP:LISTEN` names it); on port 5000 that is often AirPlay Receiver: turn it off in System Settings › General › AirDrop & Handoff"),
                &format!("stop what holds it: in WSL `ss -ltnp 'sport = :{port}'`; a Windows program holding it shows in PowerShell with `Get-NetTCPConnection -LocalPort {port}`"),
            ))
        })
        .collect()
}

/// A command line's program name: the last part of its first word, at
/// most 64 characters.
pub(crate) fn command_name(line: &str) -> String {
    let first = line.split_whitespace().next().unwrap_or("");
    let name = first.rsplit('/').next().unwrap_or(first);
    let name: String = name.chars().take(64).collect();
    if name.is_empty() {
        "(unnamed process)".into()
    } else {
        name
    }
}

// ----------------------------------------------------------- disk, memory

/// Bytes a tidy size reads as (`2.5 GiB`).
pub(crate) fn human(bytes: u64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    const MIB: f64 = (1u64 << 20) as f64;
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if b >= GIB {
        format!("{:.1} GiB", b / GIB)
    } else {
        format!("{:.0} MiB", b / MIB)
    }
}

fn against(what: &str, free: u64, need: Option<u64>) -> (State, String) {
    match need {
        None => (
            State::Ok,
            format!("{} {what}; the lab declares no need", human(free)),
        ),
        Some(need) if free < need => (
            State::Problem,
            format!("{} {what}; this lab needs {}", human(free), human(need)),
        ),
        Some(need) => (
            State::Ok,
            format!("{} {what}; this lab needs {}", human(free), human(need)),
        ),
    }
}

fn disk_item(workspace: &Path, need: Option<u64>) -> Item {
    let title = "Free disk space".to_owned();
    let (state, detail) = match free_disk(workspace) {
        Some(free) => against("free where your labs are", free, need),
        None => (
            State::Unknown,
            "the free space of the workspace's disk could not be read".into(),
        ),
    };
    Item::new("disk".into(), "disk", title, state, detail).fix(Fix::new(
        "free space: `uv cache clean`, `docker system prune` (removes stopped containers and unused images), or empty old labs' `.venv` folders",
        "free space: `uv cache clean`, `docker system prune`, and Docker Desktop's disk limit under Settings › Resources",
        "free space: `uv cache clean` and `docker system prune` in WSL; WSL's disk grows into the Windows drive, so free space there too",
    ))
}

fn memory_item(need: Option<u64>) -> Item {
    let title = "Available memory".to_owned();
    let (state, detail) = match available_memory() {
        Some(free) => against("available", free, need),
        None => (
            State::Unknown,
            "the sidecar reads available memory on Linux (and WSL) and macOS only".into(),
        ),
    };
    let mut item = Item::new("memory".into(), "memory", title, state, detail);
    item = item.fix(Fix::new(
        "close other programs, or stop other labs' services and containers",
        "see Activity Monitor › Memory; close other programs, and give Docker Desktop (or Colima, `colima start --memory 6`) enough memory",
        "WSL gets half of Windows' memory by default: raise `memory=` under `[wsl2]` in %UserProfile%\\.wslconfig, then `wsl --shutdown`",
    ));
    item
}

/// The space a non-root user may still write on the file system of
/// `path`, or of its nearest existing parent.
pub(crate) fn free_disk(path: &Path) -> Option<u64> {
    let mut at: PathBuf = path.to_path_buf();
    while !at.exists() {
        at = at.parent()?.to_path_buf();
    }
    #[cfg(unix)]
    {
        let s = rustix::fs::statvfs(&at).ok()?;
        Some(available_bytes(s.f_bavail, s.f_frsize))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Blocks free for users times the fragment size, as `df` counts them.
pub(crate) fn available_bytes(blocks_available: u64, fragment_size: u64) -> u64 {
    blocks_available.saturating_mul(fragment_size)
}

fn available_memory() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        mem_available(&std::fs::read_to_string("/proc/meminfo").ok()?)
    }
    #[cfg(target_os = "macos")]
    {
        vm_stat_memory()
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        None
    }
}

/// Available memory as macOS's `vm_stat` (no arguments) tells it, bounded
/// like every system reader; compiled everywhere so that it is checked.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
fn vm_stat_memory() -> Option<u64> {
    use crate::proc::{READER_LIMIT, READER_OUTPUT, run_capped_blocking};
    vm_stat_available(&run_capped_blocking(
        "vm_stat",
        &[],
        READER_LIMIT,
        READER_OUTPUT,
    )?)
}

/// Available memory in bytes from macOS's `vm_stat`: free, inactive and
/// speculative pages times the page size its first line gives
/// ("Mach Virtual Memory Statistics: (page size of 16384 bytes)").
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) fn vm_stat_available(output: &str) -> Option<u64> {
    let page: u64 = output
        .lines()
        .next()?
        .split_once("page size of ")?
        .1
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let pages = |name: &str| {
        output.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            rest.trim().trim_end_matches('.').parse::<u64>().ok()
        })
    };
    let total = pages("Pages free")?
        .checked_add(pages("Pages inactive")?)?
        .checked_add(pages("Pages speculative")?)?;
    total.checked_mul(page)
}

/// Available memory in bytes from `/proc/meminfo`: `MemAvailable`, or on
/// kernels before 3.14 `MemFree + Buffers + Cached`.
pub(crate) fn mem_available(meminfo: &str) -> Option<u64> {
    let field = |name: &str| {
        meminfo.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            let mut words = rest.split_whitespace();
            let n: u64 = words.next()?.parse().ok()?;
            let scale = match words.next() {
                Some("kB") => 1024,
                None => 1,
                Some(_) => return None,
            };
            n.checked_mul(scale)
        })
    };
    field("MemAvailable").or_else(|| Some(field("MemFree")? + field("Buffers")? + field("Cached")?))
}

// ---------------------------------------------------------- architecture

fn arch_item() -> Item {
    let arch = std::env::consts::ARCH;
    let known = matches!(arch, "x86_64" | "aarch64");
    let detail = format!(
        "{arch}{}: every image and wheel the labs use is built for both x86_64 and arm64, so this is for your information",
        match arch {
            "x86_64" => " (amd64)",
            "aarch64" => " (arm64)",
            _ => "",
        }
    );
    let state = if known { State::Ok } else { State::Unknown };
    Item::new("arch".into(), "arch", "CPU architecture".into(), state, detail).fix(Fix::same(
        "the labs are tested on x86_64 and arm64; on another architecture some wheels or images may have to be built from source",
    ))
}

// ------------------------------------------------------------- running

/// How a bounded program run ended.
#[derive(Debug)]
pub(crate) enum Ran {
    Missing,
    TimedOut,
    Failed(String),
    Exited { ok: bool, output: String },
}

/// Runs `program ARGS` (no shell, stdin closed) for at most `limit`,
/// keeping [`MAX_OUTPUT`] of each stream; on the limit it is killed.
pub(crate) async fn run_bounded(program: &Path, args: &[&str], limit: Duration) -> Ran {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ran::Missing,
        Err(e) => return Ran::Failed(e.to_string()),
    };
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let done = tokio::time::timeout(limit, async {
        let (out, err) = tokio::join!(
            read_capped(stdout, MAX_OUTPUT),
            read_capped(stderr, MAX_OUTPUT)
        );
        (out, err, child.wait().await)
    })
    .await;
    match done {
        Ok((out, err, Ok(status))) => Ran::Exited {
            ok: status.success(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            ),
        },
        Ok((_, _, Err(e))) => Ran::Failed(e.to_string()),
        Err(_) => {
            #[cfg(unix)]
            if let Some(pid) = child
                .id()
                .and_then(|id| i32::try_from(id).ok())
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
            let _ = child.kill().await;
            Ran::TimedOut
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("(no output)")
}

fn clip(text: &str) -> String {
    if text.chars().count() <= MAX_DETAIL {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(MAX_DETAIL).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_stat_gives_free_inactive_and_speculative_pages() {
        // An Apple silicon Mac (16 KiB pages).
        let arm = "Mach Virtual Memory Statistics: (page size of 16384 bytes)
Pages free:                                3571.
Pages active:                            201208.
Pages inactive:                          198354.
Pages speculative:                         1823.
Pages throttled:                              0.
Pages wired down:                        112015.
Pages purgeable:                           2730.
\"Translation faults\":                 1208339201.
Pages copy-on-write:                   41327890.
";
        assert_eq!(
            vm_stat_available(arm),
            Some((3571 + 198_354 + 1823) * 16384)
        );
        // An Intel Mac (4 KiB pages).
        let intel = "Mach Virtual Memory Statistics: (page size of 4096 bytes)
Pages free:                              102400.
Pages active:                            500000.
Pages inactive:                          300000.
Pages speculative:                        10000.
";
        assert_eq!(vm_stat_available(intel), Some(412_400 * 4096));
        // No page size in the first line, a field missing, or garbage.
        assert_eq!(
            vm_stat_available(&intel.replacen("page size of", "pages of", 1)),
            None
        );
        assert_eq!(
            vm_stat_available(&intel.replace("Pages speculative", "Pages other")),
            None
        );
        assert_eq!(vm_stat_available(&intel.replace("102400.", "lots.")), None);
        assert_eq!(vm_stat_available(""), None);
    }

    #[test]
    fn meminfo_gives_available_memory() {
        let text = "MemTotal:       16303448 kB\nMemFree:         1022100 kB\nMemAvailable:    9871236 kB\nBuffers:          312000 kB\nCached:          7000000 kB\n";
        assert_eq!(mem_available(text), Some(9_871_236 * 1024));
        // Before Linux 3.14 there is no MemAvailable.
        let old = "MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 1 kB\nCached: 5 kB\n";
        assert_eq!(mem_available(old), Some(16 * 1024));
        assert_eq!(mem_available("MemAvailableX: 5 kB\n"), None);
        assert_eq!(mem_available("MemAvailable: lots\n"), None);
        assert_eq!(mem_available(""), None);
    }

    #[test]
    fn free_disk_is_counted_as_df_does() {
        assert_eq!(available_bytes(1_000, 4096), 4_096_000);
        assert_eq!(available_bytes(u64::MAX, 4096), u64::MAX);
        // A folder that does not exist yet is measured on its parent's disk.
        let tmp = tempfile::tempdir().expect("tempdir");
        let free = free_disk(&tmp.path().join("not/yet")).expect("statvfs");
        assert!(free > 0);
    }

    #[test]
    fn versions_are_judged_against_the_minimum() {
        let min = Version::parse("3.11");
        let j = |ok, out: &str| judge_version("python3 --version", ok, out, min.as_ref());
        assert_eq!(
            j(true, "Python 3.12.3\n"),
            (State::Ok, "found 3.12.3".into())
        );
        assert_eq!(
            j(true, "Python 3.10.12\n"),
            (
                State::Problem,
                "found 3.10.12; this lab needs 3.11 or newer".into()
            )
        );
        assert_eq!(j(true, "Python\n").0, State::Unknown);
        assert_eq!(j(false, "error: boom\n").0, State::Unknown);
        let kubectl = "Client Version: v1.36.0\nKustomize Version: v5.7.1\n";
        let min = Version::parse("1.36");
        assert_eq!(
            judge_version("kubectl version --client", true, kubectl, min.as_ref()).0,
            State::Ok
        );
        assert_eq!(
            judge_version(
                "helm version --short",
                true,
                "v3.19.0+g3d8990f",
                Version::parse("4.0").as_ref()
            ),
            (
                State::Problem,
                "found 3.19.0; this lab needs 4.0 or newer".into()
            )
        );
        assert_eq!(
            judge_version(
                "curl --version",
                true,
                "curl 8.14.1 (x86_64-pc-linux-gnu)",
                None
            ),
            (State::Ok, "found 8.14.1".into())
        );
    }

    #[test]
    fn only_plain_program_names_are_run() {
        assert_eq!(
            version_command("python"),
            Some(("python3", &["--version"][..]))
        );
        assert_eq!(
            version_command("kubectl").map(|c| c.1),
            Some(&["version", "--client"][..])
        );
        assert_eq!(version_command("ruff"), Some(("ruff", &["--version"][..])));
        for bad in [
            "../bin/sh",
            "/bin/sh",
            "sh -c id",
            "a;b",
            "$(id)",
            "-rf",
            ".hidden",
            "",
        ] {
            assert_eq!(version_command(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_holder_is_named_by_its_program() {
        assert_eq!(command_name("/usr/bin/python3 -m mlflow server"), "python3");
        assert_eq!(command_name("nginx: master process"), "nginx:");
        assert_eq!(command_name(""), "(unnamed process)");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_tool_that_hangs_is_stopped_at_its_limit() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let tool = tmp.path().join("slowtool");
        std::fs::write(&tool, "#!/bin/sh\nsleep 30\n").expect("write");
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let started = Instant::now();
        let ran = run_bounded(&tool, &["--version"], Duration::from_millis(300)).await;
        assert!(matches!(ran, Ran::TimedOut), "{ran:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        let ran = run_bounded(&tmp.path().join("absent"), &[], Duration::from_secs(1)).await;
        assert!(matches!(ran, Ran::Missing), "{ran:?}");
    }
}
