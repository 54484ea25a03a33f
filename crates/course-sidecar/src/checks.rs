//! Running a lab's checks, caching their results, and refreshing the cache
//! at most once per interval however many pages ask.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::path::{Component, Path};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use course_labs::{Check, CheckSpec, Lab, Port, Version};
use serde::Serialize;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::probe;
use crate::proc::{Proc, read_capped};
use crate::state::{LabEntry, lock, now_ms};

/// Output of a `command` check kept for matching.
const MAX_COMMAND_OUTPUT: usize = 64 * 1024;
/// Bytes of a file read by a `file` check with `contains`.
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Bytes of a response body quoted when its JSON does not match.
const QUOTE_BYTES: usize = 200;

/// Where a check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CheckState {
    /// Not run yet.
    Pending,
    Pass,
    Fail,
}

/// The last result of one step's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CheckResult {
    pub(crate) state: CheckState,
    pub(crate) message: String,
    /// When it ran, in Unix milliseconds.
    pub(crate) checked_at_ms: Option<u64>,
}

/// The cached results of a lab's checks.
pub(crate) struct CheckCache {
    /// One entry per step, `None` for steps without a check.
    pub(crate) results: Vec<Option<CheckResult>>,
    /// Declared ports something already listens on.
    pub(crate) ports_in_use: Vec<u16>,
    /// When the last refresh finished.
    pub(crate) refreshed_at: Option<Instant>,
    pub(crate) refreshed_at_ms: Option<u64>,
}

impl CheckCache {
    pub(crate) fn new(lab: &Lab) -> CheckCache {
        let pending = CheckResult {
            state: CheckState::Pending,
            message: "not checked yet".into(),
            checked_at_ms: None,
        };
        CheckCache {
            results: lab
                .steps
                .iter()
                .map(|s| s.check.as_ref().map(|_| pending.clone()))
                .collect(),
            ports_in_use: Vec::new(),
            refreshed_at: None,
            refreshed_at_ms: None,
        }
    }

    fn is_stale(&self, interval: Duration) -> bool {
        self.refreshed_at.is_none_or(|t| t.elapsed() >= interval)
    }
}

/// What a `status` event says about one step's check.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StatusEvent<'a> {
    pub(crate) step: &'a str,
    #[serde(flatten)]
    pub(crate) result: &'a CheckResult,
    pub(crate) hint: Option<&'a str>,
}

/// Marks a refresh as in progress for as long as it lives.
struct Refreshing<'a>(&'a AtomicBool);

impl<'a> Refreshing<'a> {
    fn take(flag: &'a AtomicBool) -> Option<Refreshing<'a>> {
        flag.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Refreshing(flag))
    }
}

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Whether a refresh would run now: the cache is stale and no refresh is
/// in progress.
pub(crate) fn needs_refresh(entry: &LabEntry) -> bool {
    !entry.refreshing.load(Ordering::Acquire)
        && lock(&entry.checks).is_stale(entry.limits.check_interval)
}

/// Starts a refresh in the background if one is due (the status endpoint's
/// way: answer from the cache now, fresher next time).
pub(crate) fn refresh_soon(entry: &Arc<LabEntry>) {
    if needs_refresh(entry) {
        let entry = entry.clone();
        tokio::spawn(async move { refresh(&entry).await });
    }
}

/// Runs every check of the lab concurrently, unless the cache is younger
/// than the interval or another refresh is running: that is what makes each
/// check run at most once per interval. Sends a `status` event for every
/// check whose state or message changed.
pub(crate) async fn refresh(entry: &LabEntry) {
    let interval = entry.limits.check_interval;
    if !lock(&entry.checks).is_stale(interval) {
        return;
    }
    let Some(_refreshing) = Refreshing::take(&entry.refreshing) else {
        return;
    };
    // Another refresh may have finished between the first look and taking the flag.
    if !lock(&entry.checks).is_stale(interval) {
        return;
    }
    let dir = entry.dir.as_path();
    let probes = entry.lab.steps.iter().map(|step| async move {
        match &step.check {
            Some(check) => Some(run_check(check, dir).await),
            None => None,
        }
    });
    let outcomes = futures_util::future::join_all(probes).await;
    let ports = ports_in_use(&entry.lab.ports);
    let now = now_ms();
    let mut changed = Vec::new();
    {
        let mut cache = lock(&entry.checks);
        for (i, outcome) in outcomes.into_iter().enumerate() {
            let Some((pass, message)) = outcome else {
                continue;
            };
            let result = CheckResult {
                state: if pass {
                    CheckState::Pass
                } else {
                    CheckState::Fail
                },
                message,
                checked_at_ms: Some(now),
            };
            if let Some(slot) = cache.results.get_mut(i) {
                let differs = slot
                    .as_ref()
                    .is_none_or(|old| old.state != result.state || old.message != result.message);
                if differs {
                    changed.push((i, result.clone()));
                }
                *slot = Some(result);
            }
        }
        cache.ports_in_use = ports;
        cache.refreshed_at = Some(Instant::now());
        cache.refreshed_at_ms = Some(now);
    }
    for (i, result) in &changed {
        if let Some(step) = entry.lab.steps.get(*i) {
            entry.send("status", &status_event(step, result));
        }
    }
}

pub(crate) fn status_event<'a>(
    step: &'a course_labs::Step,
    result: &'a CheckResult,
) -> StatusEvent<'a> {
    StatusEvent {
        step: &step.id,
        result,
        hint: failing_hint(step, result.state),
    }
}

/// The check's hint, when the check fails.
pub(crate) fn failing_hint(step: &course_labs::Step, state: CheckState) -> Option<&str> {
    match state {
        CheckState::Fail => step.check.as_ref()?.hint.as_deref(),
        CheckState::Pass | CheckState::Pending => None,
    }
}

/// Runs one check: `(passed, what was found)`. Never takes much longer than
/// the check's timeout.
pub(crate) async fn run_check(check: &Check, dir: &Path) -> (bool, String) {
    let t = check.timeout;
    let late = || Err(format!("no answer within {}", seconds(t)));
    let outcome = match &check.spec {
        // Manages its own timeout, to stop the command's whole process group.
        CheckSpec::Command {
            command,
            contains,
            min_version,
        } => command_check(command, contains.as_deref(), min_version.as_ref(), dir, t).await,
        CheckSpec::Http {
            url,
            method,
            body,
            status,
            json,
        } => {
            let probe = http_check(
                url,
                method.as_str(),
                body.as_deref(),
                *status,
                json.as_ref(),
            );
            tokio::time::timeout(t, probe)
                .await
                .unwrap_or_else(|_| late())
        }
        CheckSpec::Tcp { host, port } => tokio::time::timeout(t, tcp_check(host, *port))
            .await
            .unwrap_or_else(|_| late()),
        CheckSpec::File { path, contains } => {
            tokio::time::timeout(t, file_check(path, contains.as_deref(), dir))
                .await
                .unwrap_or_else(|_| late())
        }
    };
    match outcome {
        Ok(()) => (true, check.spec.describe()),
        Err(why) => (false, why),
    }
}

fn seconds(t: Duration) -> String {
    format!("{} s", t.as_secs_f64())
}

async fn http_check(
    url: &str,
    method: &str,
    body: Option<&str>,
    status: u16,
    json: Option<&serde_json::Value>,
) -> Result<(), String> {
    let target = probe::parse_url(url)?;
    let response = probe::request(&target, method, body).await?;
    if response.status != status {
        return Err(format!(
            "{method} {url} answered {}, expected {status}",
            response.status
        ));
    }
    let Some(expected) = json else {
        return Ok(());
    };
    let quote = || {
        let text = String::from_utf8_lossy(&response.body);
        let mut end = text.len().min(QUOTE_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text[..end].to_owned()
    };
    let actual: serde_json::Value = serde_json::from_slice(&response.body)
        .map_err(|_| format!("{method} {url} did not answer JSON: {}", quote()))?;
    if probe::json_contains(&actual, expected) {
        Ok(())
    } else {
        Err(format!(
            "{method} {url} answered {}, which does not contain {expected}",
            quote()
        ))
    }
}

async fn tcp_check(host: &str, port: u16) -> Result<(), String> {
    let ips: Vec<SocketAddr> = match host {
        "127.0.0.1" => vec![(Ipv4Addr::LOCALHOST, port).into()],
        "::1" | "[::1]" => vec![(Ipv6Addr::LOCALHOST, port).into()],
        h if h.eq_ignore_ascii_case("localhost") => vec![
            (Ipv4Addr::LOCALHOST, port).into(),
            (Ipv6Addr::LOCALHOST, port).into(),
        ],
        _ => return Err(format!("`{host}` is not a loopback host")),
    };
    let mut last = String::new();
    for addr in ips {
        match TcpStream::connect(addr).await {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!("nothing listens on {host}:{port} ({last})"))
}

async fn file_check(path: &str, contains: Option<&str>, dir: &Path) -> Result<(), String> {
    if !dir.is_dir() {
        return Err(not_exported());
    }
    if !stays_inside(path) {
        return Err(format!("the path `{path}` leaves the lab folder"));
    }
    let full = dir.join(path);
    let Some(text) = contains else {
        return match tokio::fs::metadata(&full).await {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("{path} does not exist")),
        };
    };
    let file = tokio::fs::File::open(&full)
        .await
        .map_err(|_| format!("{path} does not exist"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| format!("{path} cannot be read: {e}"))?;
    if String::from_utf8_lossy(&bytes).contains(text) {
        Ok(())
    } else {
        Err(format!("{path} does not contain “{text}”"))
    }
}

/// A relative path with no `..`, root or drive: the manifest was checked on
/// load, and this keeps the check safe on its own.
fn stays_inside(path: &str) -> bool {
    !path.is_empty()
        && !path.contains(['\\', '\0'])
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

async fn command_check(
    command: &str,
    contains: Option<&str>,
    min_version: Option<&Version>,
    dir: &Path,
    timeout: Duration,
) -> Result<(), String> {
    if !dir.is_dir() {
        return Err(not_exported());
    }
    let mut proc =
        Proc::spawn(command, dir).map_err(|e| format!("could not start the command: {e}"))?;
    let (stdout, stderr) = proc.take_output();
    let finished = tokio::time::timeout(timeout, async {
        let (out, err) = tokio::join!(
            read_capped(stdout, MAX_COMMAND_OUTPUT),
            read_capped(stderr, MAX_COMMAND_OUTPUT)
        );
        (out, err, proc.wait().await)
    })
    .await;
    let Ok((out, err, status)) = finished else {
        let _ = proc.stop().await;
        return Err(format!(
            "the command did not finish within {}",
            seconds(timeout)
        ));
    };
    let status = status.map_err(|e| format!("the command could not be waited for: {e}"))?;
    if !status.success() {
        return Err(match status.code() {
            Some(code) => format!("the command exited with code {code}"),
            None => "the command was killed by a signal".to_owned(),
        });
    }
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    );
    if let Some(text) = contains
        && !output.contains(text)
    {
        return Err(format!("the output does not contain “{text}”"));
    }
    match (min_version, Version::find_in(&output)) {
        (None, _) => Ok(()),
        (Some(_), None) => Err("the output names no version".into()),
        (Some(min), Some(found)) if found < *min => {
            Err(format!("found version {found}, need {min} or later"))
        }
        (Some(_), Some(_)) => Ok(()),
    }
}

fn not_exported() -> String {
    "the lab is not exported yet".into()
}

/// Declared ports that something already listens on. Only "address in use"
/// counts: a port we may not bind (below 1024, say) is not evidence.
pub(crate) fn ports_in_use(ports: &[Port]) -> Vec<u16> {
    ports
        .iter()
        .filter(|p| {
            TcpListener::bind((Ipv4Addr::LOCALHOST, p.port))
                .is_err_and(|e| e.kind() == std::io::ErrorKind::AddrInUse)
        })
        .map(|p| p.port)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(spec: CheckSpec) -> Check {
        Check {
            spec,
            timeout: Duration::from_secs(5),
            hint: None,
        }
    }

    #[test]
    fn paths_stay_inside() {
        assert!(stays_inside("a/b.txt"));
        assert!(stays_inside("./a"));
        for bad in ["", "../a", "a/../../b", "/etc/passwd", "a\\b", "a\0b"] {
            assert!(!stays_inside(bad), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn file_and_command_checks() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join("app.py"), "print('hi')\n").expect("write");
        let file = |path: &str, contains: Option<&str>| {
            check(CheckSpec::File {
                path: path.into(),
                contains: contains.map(Into::into),
            })
        };
        assert!(run_check(&file("app.py", None), tmp.path()).await.0);
        assert!(
            run_check(&file("app.py", Some("print")), tmp.path())
                .await
                .0
        );
        let (pass, why) = run_check(&file("app.py", Some("nope")), tmp.path()).await;
        assert!(!pass && why.contains("does not contain"), "{why}");
        assert!(!run_check(&file("missing.py", None), tmp.path()).await.0);
        assert!(!run_check(&file("../app.py", None), tmp.path()).await.0);
        let (pass, why) = run_check(&file("app.py", None), &tmp.path().join("not-there")).await;
        assert!(!pass && why.contains("not exported"), "{why}");

        let command = |cmd: &str, contains: Option<&str>, min: Option<&str>| {
            check(CheckSpec::Command {
                command: cmd.into(),
                contains: contains.map(Into::into),
                min_version: min.and_then(Version::parse),
            })
        };
        assert!(
            run_check(
                &command("echo Python 3.12.1", Some("Python"), Some("3.11")),
                tmp.path()
            )
            .await
            .0
        );
        let (pass, why) = run_check(
            &command("echo Python 3.9.7", None, Some("3.11")),
            tmp.path(),
        )
        .await;
        assert!(!pass && why.contains("3.9.7"), "{why}");
        let (pass, why) = run_check(&command("echo hi >&2; exit 3", None, None), tmp.path()).await;
        assert!(!pass && why.contains("code 3"), "{why}");
        let (pass, why) =
            run_check(&command("echo no version", None, Some("1.0")), tmp.path()).await;
        assert!(!pass && why.contains("no version"), "{why}");
    }

    #[tokio::test]
    async fn command_checks_time_out() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let slow = Check {
            spec: CheckSpec::Command {
                command: "sleep 30".into(),
                contains: None,
                min_version: None,
            },
            timeout: Duration::from_millis(200),
            hint: None,
        };
        let started = Instant::now();
        let (pass, why) = run_check(&slow, tmp.path()).await;
        assert!(!pass && why.contains("did not finish"), "{why}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn tcp_and_http_checks_against_a_real_listener() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                tokio::spawn(async move {
                    use tokio::io::AsyncWriteExt;
                    let mut buf = [0u8; 1024];
                    let _ = conn.read(&mut buf).await;
                    let body = r#"{"status":"ok","model":{"name":"wine"}}"#;
                    let _ = conn
                        .write_all(
                            format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                                body.len()
                            )
                            .as_bytes(),
                        )
                        .await;
                });
            }
        });
        let dir = Path::new("/nonexistent");
        let tcp = |port| {
            check(CheckSpec::Tcp {
                host: "127.0.0.1".into(),
                port,
            })
        };
        assert!(run_check(&tcp(port), dir).await.0);
        let http = |json: serde_json::Value, status| {
            check(CheckSpec::Http {
                url: format!("http://localhost:{port}/health"),
                method: course_labs::HttpMethod::Get,
                body: None,
                status,
                json: Some(json),
            })
        };
        assert!(
            run_check(&http(serde_json::json!({"status": "ok"}), 200), dir)
                .await
                .0
        );
        let (pass, why) = run_check(&http(serde_json::json!({"status": "down"}), 200), dir).await;
        assert!(!pass && why.contains("does not contain"), "{why}");
        let (pass, why) = run_check(&http(serde_json::json!({}), 201), dir).await;
        assert!(!pass && why.contains("expected 201"), "{why}");

        // A port nobody listens on: bind one, note it, let it go.
        let free = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let (pass, why) = run_check(&tcp(free), dir).await;
        assert!(!pass && why.contains("nothing listens"), "{why}");
    }
}
