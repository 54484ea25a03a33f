//! Child processes: every command runs as `sh -c` in its own process group,
//! so stopping it stops everything it started.

use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};

/// How long a stopped command gets to exit after SIGTERM before SIGKILL.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(3);

/// A running `sh -c COMMAND`. Dropping it before it was reaped kills its
/// whole process group.
pub(crate) struct Proc {
    child: Child,
    reaped: bool,
}

/// How the sidecar starts every program: stdin closed, stdout and stderr
/// piped, killed when dropped, and (on Unix) leading a process group of its
/// own, so that stopping it stops everything it started.
pub(crate) fn contain(cmd: &mut Command) -> &mut Command {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    cmd
}

impl Proc {
    /// Starts `command` with `sh -c` in `dir`, stdin closed, stdout and stderr piped.
    pub(crate) fn spawn(command: &str, dir: &Path) -> io::Result<Proc> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(command)
            .current_dir(dir)
            // Python tools print as they go instead of at exit.
            .env("PYTHONUNBUFFERED", "1");
        contain(&mut cmd);
        Ok(Proc {
            child: cmd.spawn()?,
            reaped: false,
        })
    }

    /// The command's process group id (its shell's pid).
    pub(crate) fn group(&self) -> Option<i32> {
        self.child.id().and_then(|id| i32::try_from(id).ok())
    }

    pub(crate) fn take_output(&mut self) -> (Option<ChildStdout>, Option<ChildStderr>) {
        (self.child.stdout.take(), self.child.stderr.take())
    }

    /// Waits for the command to exit. Cancel-safe.
    pub(crate) async fn wait(&mut self) -> io::Result<ExitStatus> {
        let status = self.child.wait().await?;
        self.reaped = true;
        Ok(status)
    }

    /// SIGTERM to the group, SIGKILL after [`STOP_GRACE`], then reaps the
    /// shell and waits until no process of the group is left: a stop is
    /// reported only once everything the command started has exited (an
    /// MLflow server's workers, say).
    pub(crate) async fn stop(&mut self) -> io::Result<ExitStatus> {
        let group = self.group();
        self.signal_group(false);
        let status = match tokio::time::timeout(STOP_GRACE, self.wait()).await {
            Ok(status) => status,
            Err(_) => {
                self.signal_group(true);
                self.wait().await
            }
        };
        if let Some(group) = group {
            // The shell is reaped, but a group id stays bound to its members
            // while any lives, so it still names only ours.
            if !group_gone_within(group, STOP_GRACE).await {
                signal_group_id(group, true);
                group_gone_within(group, STOP_GRACE).await;
            }
        }
        status
    }

    /// Signals the process group, only while the leader is unreaped: until
    /// then its id cannot name anyone else's group.
    fn signal_group(&mut self, kill: bool) {
        if self.reaped {
            return;
        }
        #[cfg(unix)]
        if let Some(pid) = self
            .child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .and_then(rustix::process::Pid::from_raw)
        {
            use rustix::process::{Signal, kill_process_group};
            let signal = if kill { Signal::KILL } else { Signal::TERM };
            if kill_process_group(pid, signal).is_ok() {
                return;
            }
        }
        if kill {
            let _ = self.child.start_kill();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.signal_group(true);
    }
}

/// Sends SIGTERM (or SIGKILL) to a process group by id.
fn signal_group_id(group: i32, kill: bool) {
    #[cfg(unix)]
    if let Some(pid) = rustix::process::Pid::from_raw(group) {
        use rustix::process::{Signal, kill_process_group};
        let _ = kill_process_group(pid, if kill { Signal::KILL } else { Signal::TERM });
    }
    #[cfg(not(unix))]
    let _ = (group, kill);
}

/// Whether any process of the group is alive (zombies count as gone).
fn group_alive(group: i32) -> bool {
    !members_of(&[group]).is_empty()
}

/// Polls until the group has no live member, at most `limit`.
async fn group_gone_within(group: i32, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if !group_alive(group) {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A process still alive in a process group the runner started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// Its process id.
    pub pid: i32,
    /// The process group it is in.
    pub group: i32,
    /// Its command line.
    pub command: String,
}

impl std::fmt::Display for Leftover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} ({})", self.pid, self.command)
    }
}

/// The live (not zombie) processes in any of `groups`, read from `/proc`.
/// Elsewhere than Linux, a signal 0 to each group tells only whether it lives.
pub(crate) fn members_of(groups: &[i32]) -> Vec<Leftover> {
    if groups.is_empty() {
        return Vec::new();
    }
    #[cfg(target_os = "linux")]
    {
        let mut found = Vec::new();
        for pid in pids() {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
            let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
                continue;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next().unwrap_or("");
            let pgrp = fields.nth(1).and_then(|g| g.parse::<i32>().ok());
            if state == "Z" || state == "X" || !pgrp.is_some_and(|g| groups.contains(&g)) {
                continue;
            }
            found.push(Leftover {
                pid,
                group: pgrp.unwrap_or_default(),
                command: command_line(pid),
            });
        }
        found.sort_by_key(|l| l.pid);
        found
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        groups
            .iter()
            .filter(|&&g| {
                rustix::process::Pid::from_raw(g)
                    .is_some_and(|pid| rustix::process::test_kill_process_group(pid).is_ok())
            })
            .map(|&g| Leftover {
                pid: g,
                group: g,
                command: String::from("(process group)"),
            })
            .collect()
    }
    #[cfg(not(unix))]
    {
        Vec::new()
    }
}

/// The ids of the processes `/proc` lists now.
#[cfg(target_os = "linux")]
fn pids() -> impl Iterator<Item = i32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
}

/// A process's command line, its arguments joined by spaces (empty when
/// `/proc` does not tell).
#[cfg(target_os = "linux")]
fn command_line(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            String::from_utf8_lossy(&raw)
                .split('\0')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// Whether another socket holds the loopback `port`, found by binding it
/// for a moment: `Ok(true)` when the bind fails with "address in use",
/// `Ok(false)` when the port is free, and the error when the bind fails
/// otherwise (a port below 1024, say), which proves nothing either way.
pub fn port_taken(port: u16) -> std::io::Result<bool> {
    match std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port)) {
        Ok(_) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Ok(true),
        Err(e) => Err(e),
    }
}

/// `(pid, command line)` of a process with a listening socket on `port`,
/// from `/proc` on Linux; on macOS `(pid, command name)` from `lsof`.
pub fn port_listener(port: u16) -> Option<(i32, String)> {
    #[cfg(target_os = "linux")]
    {
        let inodes = listening_inodes(port);
        if inodes.is_empty() {
            return None;
        }
        for pid in pids() {
            let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
                continue;
            };
            let holds = fds.flatten().any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|target| {
                    target
                        .to_str()
                        .and_then(|t| t.strip_prefix("socket:["))
                        .and_then(|t| t.strip_suffix(']'))
                        .is_some_and(|inode| inodes.iter().any(|i| i == inode))
                })
            });
            if holds {
                return Some((pid, command_line(pid)));
            }
        }
        None
    }
    #[cfg(target_os = "macos")]
    {
        lsof_port_listener(port)
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        let _ = port;
        None
    }
}

/// The listener on `port` as `lsof` names it, with fixed arguments (the
/// port an integer), bounded like every system reader. The way on macOS,
/// which has no `/proc`; compiled everywhere so that it is checked.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) fn lsof_port_listener(port: u16) -> Option<(i32, String)> {
    let select = format!("-iTCP:{port}");
    let args = ["-nP", select.as_str(), "-sTCP:LISTEN", "-F", "pcn"];
    lsof_listener(&run_capped_blocking(
        "lsof",
        &args,
        READER_LIMIT,
        READER_OUTPUT,
    )?)
}

/// How long a fixed system reader (`lsof`, `vm_stat`) may run.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) const READER_LIMIT: Duration = Duration::from_secs(2);
/// How much of a system reader's standard output is kept.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) const READER_OUTPUT: usize = 64 * 1024;

/// The first process set of `lsof -F pcn` output that names both a pid
/// and a command: `(pid, command name)`. Each line starts with its field
/// letter; a `p` line starts a new process set, whose `c` line follows;
/// `f` and `n` lines (the file) are ignored.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) fn lsof_listener(output: &str) -> Option<(i32, String)> {
    let mut pid: Option<i32> = None;
    for line in output.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(p) = line.strip_prefix('p') {
            pid = p.trim().parse::<i32>().ok().filter(|&p| p > 0);
        } else if let Some(c) = line.strip_prefix('c')
            && let Some(pid) = pid
            && !c.trim().is_empty()
        {
            return Some((pid, c.trim().to_owned()));
        }
    }
    None
}

/// Runs `program ARGS` synchronously (no shell, stdin closed, stderr
/// dropped, in its own process group) for at most `limit`, keeping the
/// first `cap` bytes of its standard output. `None` if it could not start
/// or ran past the limit, when its process group is killed. Its exit status
/// is not looked at: `lsof` exits 1 when nothing matches.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) fn run_capped_blocking(
    program: &str,
    args: &[&str],
    limit: Duration,
    cap: usize,
) -> Option<String> {
    use std::io::Read;
    use std::time::Instant;
    let deadline = Instant::now() + limit;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().ok()?;
    let mut stdout = child.stdout.take()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            let room = cap.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        let _ = tx.send(kept);
    });
    let out = rx.recv_timeout(limit).ok();
    let exited = loop {
        match child.try_wait() {
            Ok(Some(_)) => break true,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            _ => break false,
        }
    };
    if !exited {
        if let Ok(id) = i32::try_from(child.id()) {
            signal_group_id(id, true);
        }
        let _ = child.kill();
        let _ = child.wait();
        return None;
    }
    out.map(|o| String::from_utf8_lossy(&o).into_owned())
}

/// Socket inodes in state LISTEN on `port`, from /proc/net/tcp and tcp6.
#[cfg(target_os = "linux")]
fn listening_inodes(port: u16) -> Vec<String> {
    const LISTEN: &str = "0A";
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) = (f.get(1), f.get(3), f.get(9)) else {
                continue;
            };
            let local_port = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if *state == LISTEN && local_port == Some(port) && *inode != "0" {
                inodes.push((*inode).to_owned());
            }
        }
    }
    inodes
}

/// Reads `reader` to its end, keeping the first `cap` bytes.
pub(crate) async fn read_capped(reader: Option<impl AsyncRead + Unpin>, cap: usize) -> Vec<u8> {
    let mut kept = Vec::new();
    let Some(mut reader) = reader else {
        return kept;
    };
    let mut buf = [0u8; 8192];
    while let Ok(n) = reader.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    kept
}

/// How a command ended, as reported to the page.
pub(crate) fn exit_parts(status: &ExitStatus) -> (Option<i32>, Option<i32>) {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        (status.code(), status.signal())
    }
    #[cfg(not(unix))]
    {
        (status.code(), None)
    }
}

#[cfg(test)]
mod tests;
