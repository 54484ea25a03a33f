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

impl Proc {
    /// Starts `command` with `sh -c` in `dir`, stdin closed, stdout and stderr piped.
    pub(crate) fn spawn(command: &str, dir: &Path) -> io::Result<Proc> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(command)
            .current_dir(dir)
            // Python tools print as they go instead of at exit.
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        Ok(Proc {
            child: cmd.spawn()?,
            reaped: false,
        })
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

    /// SIGTERM to the group, SIGKILL after [`STOP_GRACE`], then reaps.
    pub(crate) async fn stop(&mut self) -> io::Result<ExitStatus> {
        self.signal_group(false);
        if let Ok(status) = tokio::time::timeout(STOP_GRACE, self.wait()).await {
            return status;
        }
        self.signal_group(true);
        self.wait().await
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
