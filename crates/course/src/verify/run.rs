//! Running a checking tool: a deadline, both output streams read on their
//! own threads, and the tool's own output as the reason of a failure.

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::registry::INSTALL;
use super::{Tools, Verdict};

/// Runs `program` in `dir` with a time limit; a failure carries the
/// program's own output (stdout and stderr).
pub(super) fn run_program(
    tools: &Tools,
    program: &Path,
    args: &[&OsStr],
    dir: &Path,
    name: &str,
) -> (Verdict, Duration) {
    if !program.is_file() {
        return (tools.missing(name, INSTALL), Duration::ZERO);
    }
    let started = Instant::now();
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir);
    let verdict = match run_timed(&mut cmd, Duration::from_secs(300)) {
        Ok((true, _)) => Verdict::Pass,
        Ok((false, text)) if text.trim().is_empty() => {
            Verdict::Fail(format!("{name} failed without output"))
        }
        Ok((false, text)) => Verdict::Fail(text),
        Err(e) => Verdict::Fail(format!("{name}: {e}")),
    };
    (verdict, started.elapsed())
}

/// How long an offline `helm template` may take (it renders one chart).
pub(super) const HELM_TEMPLATE_LIMIT: Duration = Duration::from_secs(300);

/// How a command run with a deadline ended: exited (success, stdout,
/// stderr), or stopped at the deadline (what it printed until then).
pub(super) enum Finished {
    Exited(bool, String, String),
    TimedOut(String, String),
}

/// Runs a command with a deadline; returns (success, stdout+stderr).
pub(super) fn run_timed(cmd: &mut Command, limit: Duration) -> std::io::Result<(bool, String)> {
    Ok(match run_timed_split(cmd, limit)? {
        Finished::Exited(ok, out, err) => (ok, format!("{out}{err}")),
        Finished::TimedOut(out, err) => (
            false,
            format!("stopped after {limit:?} (time limit)\n{out}{err}"),
        ),
    })
}

/// Runs a command with a deadline, its stdout and stderr kept apart.
pub(super) fn run_timed_split(cmd: &mut Command, limit: Duration) -> std::io::Result<Finished> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    // Read both pipes on threads so a chatty tool never blocks on a full pipe.
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = stdout.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = stderr.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    Ok(match status {
        Some(s) => Finished::Exited(s.success(), out, err),
        None => Finished::TimedOut(out, err),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_tool_run_keeps_its_streams_apart_and_stops_at_its_deadline() {
        let mut echo = Command::new("sh");
        echo.args(["-c", "echo out; echo err >&2; exit 3"]);
        match run_timed_split(&mut echo, Duration::from_secs(30)).expect("sh") {
            Finished::Exited(ok, out, err) => {
                assert!(!ok);
                assert_eq!((out.as_str(), err.as_str()), ("out\n", "err\n"));
            }
            Finished::TimedOut(..) => panic!("sh timed out"),
        }
        let started = Instant::now();
        let mut slow = Command::new("sleep");
        slow.arg("30");
        assert!(matches!(
            run_timed_split(&mut slow, Duration::from_millis(300)).expect("sleep"),
            Finished::TimedOut(..)
        ));
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "stopped at the deadline"
        );
        let (ok, text) = run_timed(&mut slow, Duration::from_millis(300)).expect("sleep");
        assert!(
            !ok && text.starts_with("stopped after 300ms (time limit)"),
            "{text}"
        );
    }
}
