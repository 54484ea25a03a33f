//! A lab's steps and their checks, validated.

use std::time::Duration;

use crate::conventions::{is_contained, is_loopback_host, loopback_http_url};
use crate::version::Version;

use super::lint::{KILL_BY_PATTERN, NOT_IN_A_CHECK, acts, has_word, lint_command};
use super::model::{Check, CheckSpec, HttpMethod, Need, Step};
use super::raw::{CheckKind, RawCheck, RawStep};
use super::reader::Reader;
use super::tree::At;
use super::{DEFAULT_CHECK_TIMEOUT, DEFAULT_STEP_TIMEOUT, MAX_STEP_TIMEOUT_SECS, is_valid_id};

/// Every step, in order; `stops` may name only earlier steps.
pub(super) fn steps(r: &mut Reader<'_>, raw: Vec<RawStep>) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut first_line: Vec<(String, u64)> = Vec::new();
    for s in raw {
        step_id(r, &s.id, &first_line);
        first_line.push((s.id.value.clone(), s.id.at.0));
        let step = step(r, s, &steps);
        steps.push(step);
    }
    steps
}

fn step_id(r: &mut Reader<'_>, id: &At<String>, seen: &[(String, u64)]) {
    if !is_valid_id(&id.value) {
        r.problem(
            id.at,
            format!("`{}` is not a valid step id", id.value),
            "use lowercase letters, digits and dashes; progress is stored under this id, so keep it stable",
        );
    } else if let Some((_, first)) = seen.iter().find(|(seen, _)| *seen == id.value) {
        r.problem(
            id.at,
            format!(
                "duplicate step id `{}` (first used on line {first})",
                id.value
            ),
            "every step needs its own id",
        );
    }
}

fn step(r: &mut Reader<'_>, s: RawStep, earlier: &[Step]) -> Step {
    let (id, at) = (&s.id.value, s.id.at);
    if s.run.is_none() && s.check.is_none() && s.text.trim().is_empty() {
        r.problem(
            at,
            format!("step `{id}` has no text, run or check"),
            "give it a `text` that explains it, a `run` command, or a `check`",
        );
    }
    if s.service && s.run.is_none() {
        r.problem(
            at,
            format!("step `{id}` is a service but has no `run` command"),
            "add the `run` command that starts the service, or drop `service: true`",
        );
    }
    if let Some(run) = &s.run {
        lint_command(r, run, "run");
    }
    if let Some(cleanup) = &s.cleanup {
        lint_command(r, cleanup, "cleanup");
    }
    Step {
        timeout: step_timeout(r, id, s.timeout.as_ref()),
        needs: needs(r, &s.needs),
        stops: stops(r, id, &s.stops, earlier),
        check: s.check.and_then(|c| check(r, c)),
        id: s.id.value,
        title: s.title,
        text: s.text,
        run: s.run.map(|r| r.value),
        service: s.service,
        cleanup: s.cleanup.map(|c| c.value),
        rerunnable: s.rerunnable,
    }
}

fn step_timeout(r: &mut Reader<'_>, id: &str, timeout: Option<&At<u64>>) -> Duration {
    let Some(t) = timeout else {
        return DEFAULT_STEP_TIMEOUT;
    };
    let help = format!("give seconds from 1 to {MAX_STEP_TIMEOUT_SECS}");
    match t.value {
        0 => r.problem(
            t.at,
            format!("step `{id}` has a timeout of 0 seconds"),
            help,
        ),
        s if s > MAX_STEP_TIMEOUT_SECS => r.problem(
            t.at,
            format!("step `{id}` has a timeout of {s} s; the limit is {MAX_STEP_TIMEOUT_SECS} s"),
            help,
        ),
        s => return Duration::from_secs(s),
    }
    DEFAULT_STEP_TIMEOUT
}

fn needs(r: &mut Reader<'_>, raw: &[At<String>]) -> Vec<Need> {
    let mut needs = Vec::new();
    for n in raw {
        match Need::parse(&n.value) {
            Some(need) if !needs.contains(&need) => needs.push(need),
            Some(_) => {}
            None => {
                let all: Vec<&str> = Need::ALL.iter().map(|n| n.as_str()).collect();
                let near = crate::conventions::did_you_mean(&n.value, all.iter().copied())
                    .map(|d| format!("{d} "))
                    .unwrap_or_default();
                r.problem(
                    n.at,
                    format!("unknown need `{}`", n.value),
                    format!("{near}a step's `needs` lists some of: {}", all.join(", ")),
                );
            }
        }
    }
    needs
}

fn stops(r: &mut Reader<'_>, id: &str, raw: &[At<String>], earlier: &[Step]) -> Vec<String> {
    let mut stops = Vec::new();
    for target in raw {
        match earlier.iter().find(|e| e.id == target.value) {
            Some(e) if e.service => stops.push(target.value.clone()),
            Some(_) => r.problem(
                target.at,
                format!(
                    "step `{id}` stops `{}`, which is not a service",
                    target.value
                ),
                "`stops` names earlier steps with `service: true` whose process this step replaces",
            ),
            None => r.problem(
                target.at,
                format!(
                    "step `{id}` stops `{}`, which is no earlier step of this lab",
                    target.value
                ),
                "`stops` names earlier service steps of the same lab",
            ),
        }
    }
    stops
}

/// A check, or `None` if it has problems (all of them reported).
fn check(r: &mut Reader<'_>, c: RawCheck) -> Option<Check> {
    let before = r.problems.len();
    let kind = c.kind.name();
    let a_kind = format!("{} {kind}", if kind == "http" { "an" } else { "a" });
    let allowed: &[&str] = match c.kind {
        CheckKind::Http => &["url", "method", "body", "status", "json"],
        CheckKind::Tcp => &["host", "port"],
        CheckKind::File => &["path", "contains"],
        CheckKind::Command => &["command", "contains", "min_version"],
    };
    let takes = format!(
        "{a_kind} check takes: {}, timeout, hint",
        allowed.join(", ")
    );
    let foreign: Vec<&str> = c
        .given
        .iter()
        .copied()
        .filter(|f| !allowed.contains(f))
        .collect();
    for field in &foreign {
        r.problem(
            c.at,
            format!("field `{field}` does not apply to {a_kind} check"),
            takes.clone(),
        );
    }
    if !foreign.is_empty() {
        // The kind is likely wrong: what it lacks would only repeat that.
        return None;
    }
    let timeout = match c.timeout {
        None => DEFAULT_CHECK_TIMEOUT,
        Some(t) if t.is_finite() && t > 0.0 && t <= 300.0 => Duration::from_secs_f64(t),
        Some(t) => {
            r.problem(
                c.at,
                format!("check timeout {t} is out of range"),
                "give seconds between 0 and 300",
            );
            DEFAULT_CHECK_TIMEOUT
        }
    };
    let hint = c.hint.clone();
    let spec = match c.kind {
        CheckKind::Http => http_check(r, c, &takes),
        CheckKind::Tcp => tcp_check(r, c, &takes),
        CheckKind::File => file_check(r, c, &takes),
        CheckKind::Command => command_check(r, c, &takes),
    };
    (r.problems.len() == before)
        .then_some(spec)
        .flatten()
        .map(|spec| Check {
            spec,
            timeout,
            hint,
        })
}

fn missing(r: &mut Reader<'_>, c: &RawCheck, field: &str, takes: &str) {
    let kind = c.kind.name();
    let a = if kind == "http" { "an" } else { "a" };
    r.problem(c.at, format!("{a} {kind} check needs `{field}`"), takes);
}

fn http_check(r: &mut Reader<'_>, c: RawCheck, takes: &str) -> Option<CheckSpec> {
    let Some(url) = c.url.clone() else {
        missing(r, &c, "url", takes);
        return None;
    };
    if loopback_http_url(&url).is_none() {
        r.problem(
            c.at,
            format!("`{url}` is not an http URL on this machine"),
            "checks probe the learner's own services: use http://127.0.0.1:PORT/… or http://localhost:PORT/…",
        );
    }
    let method = match c.method.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("GET") => HttpMethod::Get,
        Some("HEAD") => HttpMethod::Head,
        Some("POST") => HttpMethod::Post,
        Some("PUT") => HttpMethod::Put,
        Some(other) => {
            r.problem(
                c.at,
                format!("unknown HTTP method `{other}`"),
                "use GET, HEAD, POST or PUT",
            );
            HttpMethod::Get
        }
    };
    let status = c.status.unwrap_or(200);
    if !(100..=599).contains(&status) {
        r.problem(
            c.at,
            format!("{status} is not an HTTP status"),
            "give the status the service answers, from 100 to 599 (200 when left out)",
        );
    }
    Some(CheckSpec::Http {
        url,
        method,
        body: c.body,
        status,
        json: c.json,
    })
}

fn tcp_check(r: &mut Reader<'_>, c: RawCheck, takes: &str) -> Option<CheckSpec> {
    let Some(port) = c.port else {
        missing(r, &c, "port", takes);
        return None;
    };
    let host = c.host.unwrap_or_else(|| "127.0.0.1".to_owned());
    if !is_loopback_host(&host) {
        r.problem(
            c.at,
            format!("`{host}` is not a loopback host"),
            "use 127.0.0.1, localhost or ::1",
        );
    }
    Some(CheckSpec::Tcp { host, port })
}

fn file_check(r: &mut Reader<'_>, c: RawCheck, takes: &str) -> Option<CheckSpec> {
    let Some(path) = c.path.clone() else {
        missing(r, &c, "path", takes);
        return None;
    };
    if !is_contained(&path) {
        r.problem(
            c.at,
            format!("the path `{path}` leaves the lab folder"),
            "use a relative path inside the lab, without `..`",
        );
    }
    Some(CheckSpec::File {
        path,
        contains: c.contains,
    })
}

fn command_check(r: &mut Reader<'_>, c: RawCheck, takes: &str) -> Option<CheckSpec> {
    let Some(command) = c.command.clone().filter(|c| !c.trim().is_empty()) else {
        missing(r, &c, "command", takes);
        return None;
    };
    for (word, why) in NOT_IN_A_CHECK {
        if has_word(&command, word) {
            r.problem(
                c.at,
                format!("a check runs `{word}`: {why}"),
                "checks run every few seconds while a page is open: keep them cheap, bounded and read-only",
            );
        }
    }
    for (what, why) in acts(&command) {
        r.problem(
            c.at,
            format!("a check runs `{what}`: {why}"),
            "a check observes and changes nothing: it runs on every page refresh and before each step of a follow; move the action into the step's `run`",
        );
    }
    for word in KILL_BY_PATTERN {
        if has_word(&command, word) {
            r.problem(
                c.at,
                format!("a check runs `{word}`"),
                "a check observes: look at a port, a URL or a file instead",
            );
        }
    }
    let min_version = c.min_version.as_ref().and_then(|v| {
        let parsed = Version::parse(v);
        if parsed.is_none() {
            r.problem(
                c.at,
                format!("`{v}` is not a version number"),
                "write it as \"3.11\" or \"1.30.0\" (quoted)",
            );
        }
        parsed
    });
    Some(CheckSpec::Command {
        command,
        contains: c.contains,
        min_version,
    })
}
