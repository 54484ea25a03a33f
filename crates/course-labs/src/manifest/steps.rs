//! A step's check, validated.

use std::path::Path;
use std::time::Duration;

use serde_saphyr::Spanned;

use crate::conventions::{is_loopback_host, loopback_http_url};
use crate::diag::Diagnostic;
use crate::version::Version;

use super::lint::{KILL_BY_PATTERN, NOT_IN_A_CHECK, acts, has_word};
use super::model::{Check, CheckSpec, HttpMethod};
use super::raw::{CheckKind, RawCheck};
use super::{DEFAULT_CHECK_TIMEOUT, pos};

pub(super) fn validate_check(
    manifest: &Path,
    raw: Spanned<RawCheck>,
    problems: &mut Vec<Diagnostic>,
) -> Result<Check, Diagnostic> {
    let (line, col) = pos(&raw);
    let c = raw.value;
    let at = |msg: String| Diagnostic::new(manifest, line, col, msg);

    // Fields each kind takes beyond kind/timeout/hint.
    let given: [(&str, bool); 11] = [
        ("url", c.url.is_some()),
        ("method", c.method.is_some()),
        ("body", c.body.is_some()),
        ("status", c.status.is_some()),
        ("json", c.json.is_some()),
        ("host", c.host.is_some()),
        ("port", c.port.is_some()),
        ("path", c.path.is_some()),
        ("contains", c.contains.is_some()),
        ("command", c.command.is_some()),
        ("min_version", c.min_version.is_some()),
    ];
    let allowed: &[&str] = match c.kind {
        CheckKind::Http => &["url", "method", "body", "status", "json"],
        CheckKind::Tcp => &["host", "port"],
        CheckKind::File => &["path", "contains"],
        CheckKind::Command => &["command", "contains", "min_version"],
    };
    let kind = format!("{:?}", c.kind).to_lowercase();
    let allowed_list = || format!("{}, timeout, hint", allowed.join(", "));
    for (field, present) in given {
        if present && !allowed.contains(&field) {
            return Err(
                at(format!("field `{field}` does not apply to a {kind} check"))
                    .with_help(format!("a {kind} check takes: {}", allowed_list())),
            );
        }
    }
    let timeout = match c.timeout {
        None => DEFAULT_CHECK_TIMEOUT,
        Some(t) if t.is_finite() && t > 0.0 && t <= 300.0 => Duration::from_secs_f64(t),
        Some(t) => {
            return Err(at(format!("check timeout {t} is out of range"))
                .with_help("give seconds between 0 and 300"));
        }
    };
    let missing = |field: &str| {
        at(format!("a {kind} check needs `{field}`"))
            .with_help(format!("a {kind} check takes: {}", allowed_list()))
    };
    let spec = match c.kind {
        CheckKind::Http => {
            let url = c.url.ok_or_else(|| missing("url"))?;
            if loopback_http_url(&url).is_none() {
                return Err(at(format!("`{url}` is not an http URL on this machine"))
                    .with_help("checks probe the learner's own services: use http://127.0.0.1:PORT/… or http://localhost:PORT/…"));
            }
            let method = match c.method.as_deref().map(str::to_ascii_uppercase).as_deref() {
                None | Some("GET") => HttpMethod::Get,
                Some("HEAD") => HttpMethod::Head,
                Some("POST") => HttpMethod::Post,
                Some("PUT") => HttpMethod::Put,
                Some(other) => {
                    return Err(at(format!("unknown HTTP method `{other}`"))
                        .with_help("use GET, HEAD, POST or PUT"));
                }
            };
            let status = c.status.unwrap_or(200);
            if !(100..=599).contains(&status) {
                return Err(at(format!("{status} is not an HTTP status")));
            }
            CheckSpec::Http {
                url,
                method,
                body: c.body,
                status,
                json: c.json,
            }
        }
        CheckKind::Tcp => {
            let port = c.port.ok_or_else(|| missing("port"))?;
            let host = c.host.unwrap_or_else(|| "127.0.0.1".to_owned());
            if !is_loopback_host(&host) {
                return Err(at(format!("`{host}` is not a loopback host"))
                    .with_help("use 127.0.0.1, localhost or ::1"));
            }
            CheckSpec::Tcp { host, port }
        }
        CheckKind::File => {
            let path = c.path.ok_or_else(|| missing("path"))?;
            if !crate::conventions::is_contained(&path) {
                return Err(at(format!("the path `{path}` leaves the lab folder"))
                    .with_help("use a relative path inside the lab, without `..`"));
            }
            CheckSpec::File {
                path,
                contains: c.contains,
            }
        }
        CheckKind::Command => {
            let command = c.command.ok_or_else(|| missing("command"))?;
            if command.trim().is_empty() {
                return Err(missing("command"));
            }
            for (word, why) in NOT_IN_A_CHECK {
                if has_word(&command, word) {
                    problems.push(
                        at(format!("a check runs `{word}`: {why}"))
                            .with_help("checks run every few seconds while a page is open: keep them cheap, bounded and read-only"),
                    );
                }
            }
            for (what, why) in acts(&command) {
                problems.push(
                    at(format!("a check runs `{what}`: {why}"))
                        .with_help("a check observes and changes nothing: it runs on every page refresh and before each step of a follow; move the action into the step's `run`"),
                );
            }
            for word in KILL_BY_PATTERN {
                if has_word(&command, word) {
                    problems
                        .push(at(format!("a check runs `{word}`")).with_help(
                            "a check observes: look at a port, a URL or a file instead",
                        ));
                }
            }
            let min_version = match c.min_version {
                None => None,
                Some(v) => Some(Version::parse(&v).ok_or_else(|| {
                    at(format!("`{v}` is not a version number"))
                        .with_help("write it as \"3.11\" or \"1.30.0\" (quoted)")
                })?),
            };
            CheckSpec::Command {
                command,
                contains: c.contains,
                min_version,
            }
        }
    };
    Ok(Check {
        spec,
        timeout,
        hint: c.hint,
    })
}
