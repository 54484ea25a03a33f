//! Running one check of each kind, each bounded by its timeout and reaching
//! this machine only.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use course_labs::conventions::{is_contained, loopback_addrs};
use course_labs::{Check, CheckSpec, Version};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::probe;
use crate::proc::{Proc, read_capped};

/// Output of a `command` check kept for matching.
const MAX_COMMAND_OUTPUT: usize = 64 * 1024;
/// Bytes of a file read by a `file` check with `contains`.
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Bytes of a response body quoted when its JSON does not match.
const QUOTE_BYTES: usize = 200;

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
    let Some(ips) = loopback_addrs(host) else {
        return Err(format!("`{host}` is not a loopback host"));
    };
    let mut last = String::new();
    for &ip in ips {
        match TcpStream::connect(SocketAddr::new(ip, port)).await {
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
    if !is_contained(path) {
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

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn check(spec: CheckSpec) -> Check {
        Check {
            spec,
            timeout: Duration::from_secs(5),
            hint: None,
        }
    }

    #[tokio::test]
    async fn paths_stay_inside() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join("app.py"), "print('hi')\n").expect("write");
        let file = |path: &str| {
            check(CheckSpec::File {
                path: path.into(),
                contains: None,
            })
        };
        for ok in ["app.py", "./app.py"] {
            assert!(run_check(&file(ok), tmp.path()).await.0, "{ok}");
        }
        for bad in [
            "",
            "../a",
            "a/../../b",
            "/etc/passwd",
            "a\\b",
            "a\0b",
            "C:/app.py",
        ] {
            let (pass, why) = run_check(&file(bad), tmp.path()).await;
            assert!(
                !pass && why.contains("leaves the lab folder"),
                "{bad:?}: {why}"
            );
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
