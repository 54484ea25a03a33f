//! Running a program the doctor asks: no shell, stdin closed, a time limit
//! and capped output; and the few words of its answer a report shows.

use std::io;
use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

use super::{MAX_DETAIL, MAX_OUTPUT};
use crate::proc::{contain, read_capped};

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
    contain(cmd.args(args));
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

pub(super) fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("(no output)")
}

pub(super) fn clip(text: &str) -> String {
    if text.chars().count() <= MAX_DETAIL {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(MAX_DETAIL).collect();
        s.push('…');
        s
    }
}
