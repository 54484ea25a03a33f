//! The machine itself: whether Docker answers, free disk, available
//! memory (from `/proc/meminfo`, or `vm_stat` on macOS) and the CPU
//! architecture.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::run::{Ran, clip, first_line, run_bounded};
use super::{Fix, Item, State};

pub(super) async fn docker_item(limit: Duration) -> Item {
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

pub(super) fn disk_item(workspace: &Path, need: Option<u64>) -> Item {
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

pub(super) fn memory_item(need: Option<u64>) -> Item {
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

pub(super) fn arch_item() -> Item {
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
