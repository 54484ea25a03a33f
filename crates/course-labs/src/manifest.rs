//! `lab.yaml`: the raw serde shape, and the validated [`Lab`] built from it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::conventions::{is_loopback_host, loopback_http_url};
use crate::diag::Diagnostic;
use crate::files::{LabFile, resolve_files};
use crate::version::Version;

/// Longest manifest we read; a lab.yaml is a page of text, not a data set.
const MAX_MANIFEST_BYTES: usize = 256 * 1024;
/// Default time a check may take before it counts as failed.
const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time a step may run before the sidecar stops it.
const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(600);
/// The longest a step may be given.
const MAX_STEP_TIMEOUT_SECS: u64 = 3600;

// ---------------------------------------------------------------- raw shape

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLab {
    id: Spanned<String>,
    title: String,
    module: Spanned<String>,
    summary: String,
    minutes: u32,
    #[serde(default)]
    requires: Vec<RawRequirement>,
    #[serde(default)]
    ports: Vec<Spanned<RawPort>>,
    #[serde(default)]
    runs_with: Vec<Spanned<String>>,
    files: Vec<Spanned<RawFile>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(default)]
    steps: Vec<RawStep>,
}

/// A module number as people write it (`3`, `03`, `"03"`), read as text so
/// that a leading zero is not a YAML error: the number, if it is one from 0
/// to 99.
fn module_number(text: &str) -> Option<u8> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u8>().ok().filter(|n| *n <= 99)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    tool: String,
    version: Option<Spanned<String>>,
    #[serde(default)]
    optional: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPort {
    port: u16,
    service: String,
}

/// An entry of `files:`: a mapping (`- path: app.py`, with `caption:` and
/// `show:` if wanted) or, as people write it by habit, the bare path
/// (`- app.py`).
struct RawFile {
    path: String,
    /// Where the path is, when the entry is a mapping (else the entry's place).
    at: Option<(u64, u64)>,
    caption: Option<String>,
    show: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFileMapping {
    path: Spanned<String>,
    caption: Option<String>,
    #[serde(default = "yes")]
    show: bool,
}

impl<'de> Deserialize<'de> for RawFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entry;
        impl<'de> serde::de::Visitor<'de> for Entry {
            type Value = RawFile;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a file path, or a mapping with `path:` (and `caption:`, `show:`)")
            }
            fn visit_str<E: serde::de::Error>(self, path: &str) -> Result<RawFile, E> {
                Ok(RawFile {
                    path: path.to_owned(),
                    at: None,
                    caption: None,
                    show: true,
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawFile, A::Error> {
                let m =
                    RawFileMapping::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(RawFile {
                    at: Some(pos(&m.path)),
                    path: m.path.value,
                    caption: m.caption,
                    show: m.show,
                })
            }
        }
        d.deserialize_any(Entry)
    }
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    text: String,
    run: Option<Spanned<String>>,
    #[serde(default)]
    service: bool,
    timeout: Option<u64>,
    check: Option<Spanned<RawCheck>>,
    cleanup: Option<Spanned<String>>,
    #[serde(default)]
    needs: Vec<Spanned<String>>,
    #[serde(default)]
    rerunnable: bool,
    #[serde(default)]
    stops: Vec<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
enum CheckKind {
    Http,
    Tcp,
    File,
    Command,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    kind: CheckKind,
    timeout: Option<f64>,
    hint: Option<String>,
    // http
    url: Option<String>,
    method: Option<String>,
    body: Option<String>,
    status: Option<u16>,
    json: Option<serde_json::Value>,
    // tcp
    host: Option<String>,
    port: Option<u16>,
    // file
    path: Option<String>,
    // file and command
    contains: Option<String>,
    // command
    command: Option<String>,
    min_version: Option<String>,
}

// ----------------------------------------------------------- validated model

/// A validated lab: everything in `lab.yaml`, with its files resolved.
#[derive(Debug, Clone)]
pub struct Lab {
    /// Stable id, equal to the folder name.
    pub id: String,
    /// Human title.
    pub title: String,
    /// Course module the lab belongs to (0–99).
    pub module: u8,
    /// One paragraph on what the learner builds.
    pub summary: String,
    /// Expected time in minutes.
    pub minutes: u32,
    /// Tools the lab needs, with minimum versions.
    pub requires: Vec<Requirement>,
    /// Every port the lab binds.
    pub ports: Vec<Port>,
    /// Labs meant to run at the same time as this one (their ports must not clash).
    pub runs_with: Vec<String>,
    /// Files shown and exported, in manifest order.
    pub files: Vec<LabFile>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The lab's folder.
    pub dir: PathBuf,
    /// Where `lab.yaml` is.
    pub manifest_path: PathBuf,
    /// Line of each `runs_with` entry, for diagnostics.
    pub runs_with_lines: Vec<u64>,
}

/// A tool the lab needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Tool name as the learner knows it (`python`, `uv`, `docker`…).
    pub tool: String,
    /// Minimum version, if any.
    pub version: Option<Version>,
    /// Needed only for some steps.
    pub optional: bool,
}

/// A port the lab binds, and what listens there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// TCP port on the learner's machine.
    pub port: u16,
    /// What listens on it.
    pub service: String,
    /// Line in lab.yaml, for diagnostics.
    pub line: u64,
}

/// One step of a lab.
#[derive(Debug, Clone)]
pub struct Step {
    /// Stable id: progress is keyed by it.
    pub id: String,
    /// Short title.
    pub title: String,
    /// Markdown text that explains the step.
    pub text: String,
    /// Shell command, run in the learner's copy of the lab.
    pub run: Option<String>,
    /// The command starts a long-running service (stopped by cancel or reset).
    pub service: bool,
    /// How long the command may run.
    pub timeout: Duration,
    /// What shows that the step worked.
    pub check: Option<Check>,
    /// Shell command that undoes the step.
    pub cleanup: Option<String>,
    /// What the step needs beyond the lab's own tools (a Docker engine, a
    /// Kubernetes cluster, a GitHub repository); where it is missing the
    /// step is skipped, never counted as passed.
    pub needs: Vec<Need>,
    /// The step may be run again, so its check may already pass before it
    /// runs (a follower accepts that instead of calling the check useless).
    pub rerunnable: bool,
    /// Services of earlier steps that this step replaces: they are stopped
    /// before it starts (they hold a port it binds, say).
    pub stops: Vec<String>,
}

/// Something a step needs that not every machine has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Need {
    /// A running Docker engine (`docker info` answers).
    Docker,
    /// A Kubernetes cluster that `kubectl` reaches (kind, say).
    Kubernetes,
    /// A GitHub repository of the learner's, with Actions.
    Github,
    /// A Docker engine that can pull from public image registries (an image
    /// the course's test engine has no stand-in for, such as Grafana's).
    Registry,
}

impl Need {
    /// Every need, in manifest spelling.
    pub const ALL: [Need; 4] = [Need::Docker, Need::Kubernetes, Need::Github, Need::Registry];

    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Need::Docker => "docker",
            Need::Kubernetes => "kubernetes",
            Need::Github => "github",
            Need::Registry => "registry",
        }
    }

    /// What the step needs, as a reason to skip it.
    pub fn describe(self) -> &'static str {
        match self {
            Need::Docker => "a Docker engine",
            Need::Kubernetes => "a Kubernetes cluster",
            Need::Github => "a GitHub repository",
            Need::Registry => "images from a public registry",
        }
    }

    /// Parses the manifest spelling.
    pub fn parse(s: &str) -> Option<Need> {
        Need::ALL.into_iter().find(|n| n.as_str() == s)
    }
}

/// A check: something the sidecar can probe to tell whether a step worked.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// What to probe.
    pub spec: CheckSpec,
    /// How long the probe may take.
    pub timeout: Duration,
    /// Shown to the learner when the check fails.
    pub hint: Option<String>,
}

/// HTTP methods a check may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
}

impl HttpMethod {
    /// The method as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
        }
    }
}

/// The four kinds of check.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckSpec {
    /// An HTTP request to a loopback URL answers with a status and, optionally,
    /// a JSON body that contains the given subset.
    Http {
        /// `http://127.0.0.1:PORT/...` or `http://localhost:PORT/...`.
        url: String,
        /// Request method.
        method: HttpMethod,
        /// Request body (sent as JSON when it parses as JSON).
        body: Option<String>,
        /// Expected status.
        status: u16,
        /// Expected JSON subset of the response body.
        json: Option<serde_json::Value>,
    },
    /// A TCP port on the loopback interface accepts connections.
    Tcp {
        /// Loopback host.
        host: String,
        /// Port.
        port: u16,
    },
    /// A file exists in the learner's copy of the lab (and contains a text).
    File {
        /// Path relative to the lab folder.
        path: String,
        /// Text the file must contain.
        contains: Option<String>,
    },
    /// A shell command exits 0 in time (its output may have to contain a
    /// text, or name a version at least this high).
    Command {
        /// Shell command.
        command: String,
        /// Text the output must contain.
        contains: Option<String>,
        /// Minimum version found in the output.
        min_version: Option<Version>,
    },
}

impl CheckSpec {
    /// One line that says what the check verifies, for the page.
    pub fn describe(&self) -> String {
        match self {
            CheckSpec::Http {
                url,
                method,
                status,
                json,
                ..
            } => {
                let mut s = format!("{} {url} answers {status}", method.as_str());
                if let Some(json) = json {
                    s.push_str(&format!(" with JSON containing {json}"));
                }
                s
            }
            CheckSpec::Tcp { host, port } => format!("something listens on {host}:{port}"),
            CheckSpec::File {
                path,
                contains: None,
            } => format!("the file {path} exists"),
            CheckSpec::File {
                path,
                contains: Some(c),
            } => format!("the file {path} contains “{c}”"),
            CheckSpec::Command {
                command,
                contains,
                min_version,
            } => {
                let mut s = format!("the command “{command}” succeeds");
                if let Some(v) = min_version {
                    s.push_str(&format!(" and reports version ≥ {v}"));
                }
                if let Some(c) = contains {
                    s.push_str(&format!(" and prints “{c}”"));
                }
                s
            }
        }
    }

    /// The kind's name as written in lab.yaml.
    pub fn kind(&self) -> &'static str {
        match self {
            CheckSpec::Http { .. } => "http",
            CheckSpec::Tcp { .. } => "tcp",
            CheckSpec::File { .. } => "file",
            CheckSpec::Command { .. } => "command",
        }
    }
}

/// Whether `id` is a valid lab or step id: 1–64 of `a-z`, `0-9` and `-`,
/// starting with a letter or digit. Anything path- or URL-shaped fails.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
}

// ----------------------------------------------------------------- loading

/// Reads and validates `dir/lab.yaml`, resolving the lab's files on disk.
pub fn load_lab(dir: &Path) -> Result<Lab, Vec<Diagnostic>> {
    let manifest = dir.join(crate::LAB_FILE);
    let bytes = std::fs::read(&manifest).map_err(|e| {
        vec![Diagnostic::new(&manifest, 0, 0, format!("cannot read the lab manifest: {e}"))
            .with_help("every folder under labs/ needs a lab.yaml (see the README's lab manifest reference)")]
    })?;
    parse_lab(&manifest, dir, &bytes)
}

/// Validates manifest bytes as if read from `manifest` inside `dir`.
/// Any bytes give `Ok` or `Err`, never a panic.
pub fn parse_lab(manifest: &Path, dir: &Path, bytes: &[u8]) -> Result<Lab, Vec<Diagnostic>> {
    let at = |line: u64, col: u64, msg: String| Diagnostic::new(manifest, line, col, msg);
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(vec![at(
            0,
            0,
            format!(
                "lab.yaml is {} bytes; the limit is {MAX_MANIFEST_BYTES}",
                bytes.len()
            ),
        )]);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1;
        vec![at(line, 0, "lab.yaml is not valid UTF-8".into())]
    })?;
    let raw: RawLab =
        serde_saphyr::from_str(text).map_err(|e| vec![yaml_diagnostic(manifest, &e)])?;

    let files_spec = raw.files_spec();
    let mut problems = Vec::new();
    let folder = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let module = module_number(&raw.module.value).unwrap_or_else(|| {
        let (line, col) = pos(&raw.module);
        problems.push(
            at(
                line,
                col,
                "`module` is not a module number from 0 to 99".into(),
            )
            .with_help("write the course module the lab belongs to, e.g. `module: 3` (or `03`)"),
        );
        0
    });
    let (id_line, id_col) = pos(&raw.id);
    if !is_valid_id(&raw.id.value) {
        problems.push(
            at(
                id_line,
                id_col,
                format!("`{}` is not a valid lab id", raw.id.value),
            )
            .with_help("use 1–64 lowercase letters, digits and dashes, e.g. `model-serving`"),
        );
    } else if raw.id.value != folder {
        problems.push(
            at(
                id_line,
                id_col,
                format!(
                    "the lab id `{}` differs from its folder name `{folder}`",
                    raw.id.value
                ),
            )
            .with_help(format!(
                "set `id: {folder}` or rename the folder to labs/{}",
                raw.id.value
            )),
        );
    }
    if raw.title.trim().is_empty() {
        problems.push(at(0, 0, "`title` is empty".into()).with_help("give the lab a short title"));
    }
    if raw.minutes == 0 {
        problems.push(
            at(0, 0, "`minutes` is 0".into()).with_help("say how long the lab takes, in minutes"),
        );
    }

    let mut requires = Vec::new();
    for r in raw.requires {
        let version = match r.version {
            None => None,
            Some(v) => match Version::parse(&v.value) {
                Some(parsed) => Some(parsed),
                None => {
                    let (l, c) = pos(&v);
                    problems.push(
                        at(l, c, format!("`{}` is not a version number", v.value)).with_help(
                            "write a minimum version such as \"3.11\" or \"1.30.0\" (quoted)",
                        ),
                    );
                    None
                }
            },
        };
        requires.push(Requirement {
            tool: r.tool,
            version,
            optional: r.optional,
        });
    }

    let mut ports = Vec::new();
    let mut seen_ports = HashSet::new();
    for p in raw.ports {
        let (l, c) = pos(&p);
        if p.value.port == 0 {
            problems.push(at(l, c, "port 0 is not a port a lab can declare".into()));
        } else if !seen_ports.insert(p.value.port) {
            problems.push(at(l, c, format!("port {} is declared twice", p.value.port)));
        }
        ports.push(Port {
            port: p.value.port,
            service: p.value.service,
            line: l,
        });
    }

    let mut runs_with = Vec::new();
    let mut runs_with_lines = Vec::new();
    for r in raw.runs_with {
        let (l, c) = pos(&r);
        if !is_valid_id(&r.value) {
            problems.push(at(
                l,
                c,
                format!("`{}` in runs_with is not a lab id", r.value),
            ));
        }
        runs_with.push(r.value);
        runs_with_lines.push(l);
    }

    let files = match resolve_files(manifest, dir, &files_spec, &raw.ignore) {
        Ok(files) => files,
        Err(mut errs) => {
            problems.append(&mut errs);
            Vec::new()
        }
    };

    let mut steps = Vec::new();
    let mut step_ids: Vec<(String, u64)> = Vec::new();
    for s in raw.steps {
        let (l, c) = pos(&s.id);
        if !is_valid_id(&s.id.value) {
            problems.push(
                at(l, c, format!("`{}` is not a valid step id", s.id.value))
                    .with_help("use lowercase letters, digits and dashes; progress is stored under this id, so keep it stable"),
            );
        } else if let Some((_, first)) = step_ids.iter().find(|(id, _)| *id == s.id.value) {
            problems.push(
                at(
                    l,
                    c,
                    format!(
                        "duplicate step id `{}` (first used on line {first})",
                        s.id.value
                    ),
                )
                .with_help("every step needs its own id"),
            );
        }
        step_ids.push((s.id.value.clone(), l));
        if s.run.is_none() && s.check.is_none() && s.text.trim().is_empty() {
            problems.push(at(
                l,
                c,
                format!("step `{}` has no text, run or check", s.id.value),
            ));
        }
        let timeout = match s.timeout {
            Some(0) => {
                problems.push(at(
                    l,
                    c,
                    format!("step `{}` has a timeout of 0 seconds", s.id.value),
                ));
                DEFAULT_STEP_TIMEOUT
            }
            Some(t) if t > MAX_STEP_TIMEOUT_SECS => {
                problems.push(at(
                    l,
                    c,
                    format!(
                        "step `{}` has a timeout of {t} s; the limit is {MAX_STEP_TIMEOUT_SECS} s",
                        s.id.value
                    ),
                ));
                DEFAULT_STEP_TIMEOUT
            }
            Some(t) => Duration::from_secs(t),
            None => DEFAULT_STEP_TIMEOUT,
        };
        let run = s.run.map(|r| {
            lint_command(manifest, &r, "run", &mut problems);
            r.value
        });
        let cleanup = s.cleanup.map(|r| {
            lint_command(manifest, &r, "cleanup", &mut problems);
            r.value
        });
        let mut needs = Vec::new();
        for n in &s.needs {
            match Need::parse(&n.value) {
                Some(need) if !needs.contains(&need) => needs.push(need),
                Some(_) => {}
                None => {
                    let (nl, nc) = pos(n);
                    let all: Vec<&str> = Need::ALL.iter().map(|n| n.as_str()).collect();
                    problems.push(at(nl, nc, format!("unknown need `{}`", n.value)).with_help(
                        format!("a step's `needs` lists some of: {}", all.join(", ")),
                    ));
                }
            }
        }
        let mut stops = Vec::new();
        for target in &s.stops {
            let (tl, tc) = pos(target);
            let earlier = steps.iter().find(|e: &&Step| e.id == target.value);
            match earlier {
                Some(e) if e.service => stops.push(target.value.clone()),
                Some(_) => problems.push(
                    at(tl, tc, format!("step `{}` stops `{}`, which is not a service", s.id.value, target.value))
                        .with_help("`stops` names earlier steps with `service: true` whose process this step replaces"),
                ),
                None => problems.push(
                    at(tl, tc, format!("step `{}` stops `{}`, which is no earlier step of this lab", s.id.value, target.value))
                        .with_help("`stops` names earlier service steps of the same lab"),
                ),
            }
        }
        if s.service && run.is_none() {
            problems.push(at(
                l,
                c,
                format!(
                    "step `{}` is a service but has no `run` command",
                    s.id.value
                ),
            ));
        }
        let check = match s.check {
            None => None,
            Some(raw_check) => match validate_check(manifest, raw_check, &mut problems) {
                Ok(check) => Some(check),
                Err(d) => {
                    problems.push(d);
                    None
                }
            },
        };
        steps.push(Step {
            id: s.id.value,
            title: s.title,
            text: s.text,
            run,
            service: s.service,
            timeout,
            check,
            cleanup,
            needs,
            rerunnable: s.rerunnable,
            stops,
        });
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Lab {
        id: raw.id.value,
        title: raw.title,
        module,
        summary: raw.summary,
        minutes: raw.minutes,
        requires,
        ports,
        runs_with,
        files,
        steps,
        dir: dir.to_path_buf(),
        manifest_path: manifest.to_path_buf(),
        runs_with_lines,
    })
}

impl RawLab {
    fn files_spec(&self) -> Vec<crate::files::FileSpec> {
        self.files
            .iter()
            .map(|f| crate::files::FileSpec {
                pattern: f.value.path.clone(),
                line: f.value.at.unwrap_or(pos(f)).0,
                column: f.value.at.unwrap_or(pos(f)).1,
                caption: f.value.caption.clone(),
                show: f.value.show,
            })
            .collect()
    }
}

fn pos<T>(s: &Spanned<T>) -> (u64, u64) {
    (s.referenced.line(), s.referenced.column())
}

fn yaml_diagnostic(manifest: &Path, e: &serde_saphyr::Error) -> Diagnostic {
    let (line, col) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    // The only enum in the schema is a check's kind.
    let message = plain_message(e).replace("unknown variant", "unknown check kind");
    let mut d = Diagnostic::new(manifest, line, col, message.clone());
    if message.contains("unknown check kind") {
        d = d.with_help("a check's `kind` is one of: http, tcp, file, command");
    } else if message.contains("unknown field") {
        d = d.with_help("check the spelling against the lab manifest reference in the README");
    } else if message.contains("missing field") {
        d = d.with_help(
            "add the field; the README's lab manifest reference lists what each part needs",
        );
    }
    d
}

/// serde-saphyr's Display draws a source snippet; we want one line, since the
/// diagnostic already carries the place.
fn plain_message(e: &serde_saphyr::Error) -> String {
    let full = e.to_string();
    let first = full.lines().next().unwrap_or("invalid YAML").trim();
    // Drop a trailing " at line X, column Y" that repeats the location.
    let first = match first.find(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    let first = first.trim_start_matches("error: ");
    // And a leading "line X column Y: ".
    match first.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        Some((place, rest)) if place.contains(" column ") => rest.to_owned(),
        _ => first.to_owned(),
    }
}

/// Words that stop processes by name: they match other labs' and other
/// people's processes, and `pkill -f` even the shell that runs it.
const KILL_BY_PATTERN: [&str; 2] = ["pkill", "killall"];

/// Words a check must not run: a check observes, cheaply and read-only, and
/// runs every couple of seconds while a page is open. Proving that tests pass
/// is a step's exit status; creating `.venv` (`uv run`) or sending load
/// would change what the check looks at.
const NOT_IN_A_CHECK: [(&str, &str); 9] = [
    (
        "uv run",
        "it creates or syncs `.venv`; call `.venv/bin/python` or check a file instead",
    ),
    ("uv sync", "it changes the environment"),
    ("pip install", "it changes the environment"),
    (
        "pytest",
        "proving that tests pass is the step's exit status, not a check",
    ),
    (
        "loadtest",
        "a check must not send traffic; check what the step wrote instead",
    ),
    (
        "docker build",
        "a check must not build; `docker image inspect` observes",
    ),
    (
        "docker run",
        "a check must not start containers; `docker inspect` observes",
    ),
    (
        "compose up",
        "a check must not start containers; `docker compose ps` observes",
    ),
    (
        "kubectl apply",
        "a check must not change the cluster; `kubectl get` observes",
    ),
];

/// Programs that change something whatever their arguments.
const WRITERS: [&str; 11] = [
    "rm", "mv", "cp", "touch", "mkdir", "rmdir", "tee", "dd", "truncate", "ln", "kill",
];

/// Subcommands that act, by program (`docker compose up` is `docker`
/// followed by `compose up`).
const ACTING_SUBCOMMANDS: [(&str, &[&str]); 6] = [
    (
        "docker",
        &[
            "run",
            "start",
            "stop",
            "restart",
            "rm",
            "rmi",
            "kill",
            "build",
            "tag",
            "push",
            "pull",
            "commit",
            "compose up",
            "compose down",
            "compose start",
            "compose stop",
            "compose rm",
            "compose run",
            "compose exec",
            "compose build",
            "compose pull",
            "volume rm",
            "volume create",
            "network rm",
            "network create",
            "image rm",
            "container rm",
            "system prune",
            "buildx build",
        ],
    ),
    (
        "kubectl",
        &[
            "apply",
            "create",
            "delete",
            "patch",
            "replace",
            "scale",
            "label",
            "annotate",
            "drain",
            "cordon",
            "uncordon",
            "rollout restart",
            "rollout undo",
            "run",
            "set",
            "edit",
            "expose",
            "autoscale",
            "port-forward",
            "taint",
        ],
    ),
    (
        "helm",
        &["install", "upgrade", "uninstall", "rollback", "delete"],
    ),
    ("kind", &["create", "delete", "load"]),
    (
        "git",
        &[
            "commit", "push", "checkout", "switch", "reset", "add", "tag", "merge",
        ],
    ),
    ("sed", &["-i"]),
];

/// What in a check's shell command changes state, with why: writing files,
/// sending data or load, starting or stopping things, looping.
pub(crate) fn acts(command: &str) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let mut push = |what: String, why: &'static str| {
        if !out.iter().any(|(w, _)| *w == what) {
            out.push((what, why));
        }
    };
    // Simple commands: split at pipes, lists, substitutions and new lines.
    let simple = command.split(['|', ';', '&', '\n', '(', ')', '`']);
    for part in simple {
        let words: Vec<&str> = part.split_whitespace().collect();
        // Skip `!`, `VAR=value`, `command`, `exec` and `sudo` in front.
        let mut at = 0;
        while let Some(w) = words.get(at) {
            if *w == "!" || *w == "sudo" || (w.contains('=') && !w.starts_with('-')) {
                at += 1;
            } else {
                break;
            }
        }
        let Some(&program) = words.get(at) else {
            continue;
        };
        let program = program.rsplit('/').next().unwrap_or(program);
        let args = &words[at + 1..];
        if matches!(program, "for" | "while" | "until") {
            push(
                program.to_owned(),
                "a loop repeats what it does; a check runs once and looks",
            );
        } else if WRITERS.contains(&program) && !(program == "kill" && args.first() == Some(&"-0"))
        {
            push(program.to_owned(), "it changes files or processes");
        } else if program == "curl" {
            let method = args
                .iter()
                .position(|a| *a == "-X" || *a == "--request")
                .and_then(|i| args.get(i + 1))
                .map(|m| {
                    m.trim_matches(|c| c == '\'' || c == '"')
                        .to_ascii_uppercase()
                });
            let sends = args.iter().any(|a| {
                ["-d", "-F", "-T", "--form", "--upload-file", "--json"].contains(a)
                    || a.starts_with("--data")
            });
            let writes = args
                .iter()
                .position(|a| *a == "-o" || *a == "--output")
                .and_then(|i| args.get(i + 1))
                .is_some_and(|f| *f != "/dev/null");
            if method.as_deref().is_some_and(|m| m != "GET" && m != "HEAD") || sends {
                push(
                    "curl".to_owned(),
                    "it sends data; an http check with a read-only URL observes",
                );
            } else if writes {
                push("curl -o".to_owned(), "it writes a file");
            }
        } else if program == "wget"
            && !args
                .iter()
                .any(|a| *a == "--spider" || *a == "-O-" || *a == "-qO-")
        {
            push(
                "wget".to_owned(),
                "it writes a file; use an http check or `curl -fsS`",
            );
        } else if let Some((_, subs)) = ACTING_SUBCOMMANDS.iter().find(|(p, _)| *p == program) {
            // The first words that are not options: `docker compose up`.
            let plain: Vec<&str> = args
                .iter()
                .filter(|a| !a.starts_with('-') || **a == "-i")
                .copied()
                .take(3)
                .collect();
            for sub in *subs {
                let sub_words: Vec<&str> = sub.split(' ').collect();
                let matches = if program == "sed" {
                    args.iter().any(|a| a.starts_with("-i"))
                } else if program == "kubectl" || program == "helm" {
                    // Global flags with values (`--context kind-wine`) come first.
                    verb_after_flags(args).starts_with(&sub_words)
                } else {
                    plain.starts_with(&sub_words)
                };
                if matches {
                    push(format!("{program} {sub}"), "it changes what the lab runs");
                    break;
                }
            }
        }
        // Output redirected to a file.
        for (i, w) in words.iter().enumerate() {
            let target = if let Some(t) = w.strip_prefix(">>").or_else(|| {
                w.trim_start_matches(|c: char| c.is_ascii_digit())
                    .strip_prefix('>')
            }) {
                if t.is_empty() {
                    words.get(i + 1).copied().unwrap_or("")
                } else {
                    t
                }
            } else {
                continue;
            };
            let target = target.trim_start_matches('>');
            if !(target == "/dev/null" || target.starts_with('&') || target.is_empty()) {
                push(format!("> {target}"), "it writes a file");
            }
        }
    }
    out
}

/// The verb of a kubectl or helm command line: its first words that are not
/// options or option values (`--context kind-wine -n wine get pods` → get pods).
fn verb_after_flags<'a>(args: &[&'a str]) -> Vec<&'a str> {
    // Options that take a value as the next word.
    const WITH_VALUE: [&str; 6] = [
        "--context",
        "--kube-context",
        "-n",
        "--namespace",
        "--kubeconfig",
        "-o",
    ];
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        if WITH_VALUE.contains(a) {
            skip = true;
        } else if !a.starts_with('-') {
            out.push(*a);
            if out.len() == 2 {
                break;
            }
        }
    }
    out
}

/// Reports commands that stop processes by pattern.
fn lint_command(
    manifest: &Path,
    cmd: &Spanned<String>,
    field: &str,
    problems: &mut Vec<Diagnostic>,
) {
    let (line, col) = pos(cmd);
    for word in KILL_BY_PATTERN {
        if has_word(&cmd.value, word) {
            problems.push(
                Diagnostic::new(manifest, line, col, format!("the `{field}` command uses `{word}`, which stops processes by name"))
                    .with_help("a reset stops the process groups the sidecar started itself: drop the command for a service, or name what the step made (`docker compose down`, a container the lab labels)"),
            );
        }
    }
}

/// Whether `word` occurs in `text` as a whole word (or phrase).
fn has_word(text: &str, word: &str) -> bool {
    let is_word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    text.match_indices(word).any(|(i, _)| {
        let before = text.as_bytes().get(i.wrapping_sub(1)).copied();
        let after = text.as_bytes().get(i + word.len()).copied();
        (i == 0 || !before.is_some_and(is_word_byte)) && !after.is_some_and(is_word_byte)
    })
}

fn validate_check(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(is_valid_id("model-serving"));
        assert!(is_valid_id("03-serving"));
        for bad in [
            "",
            "..",
            "../x",
            "a/b",
            "A",
            "-x",
            "x y",
            "%2e%2e",
            &"a".repeat(65),
        ] {
            assert!(!is_valid_id(bad), "{bad:?} should be invalid");
        }
    }

    fn acted(command: &str) -> Vec<String> {
        acts(command)
            .into_iter()
            .map(|(w, _)| w)
            .collect::<Vec<_>>()
    }

    #[test]
    fn checks_that_act_are_named() {
        assert_eq!(
            acted("for i in $(seq 150); do curl -s http://127.0.0.1:8100/predict; done"),
            ["for"]
        );
        assert_eq!(
            acted("curl -sS -X POST http://127.0.0.1:8100/admin/canary/promote"),
            ["curl"]
        );
        assert_eq!(
            acted("curl -fsS --data-binary @x.json http://127.0.0.1:8000/predict"),
            ["curl"]
        );
        assert_eq!(
            acted("curl -fsS http://127.0.0.1:8000/ready > ready.json"),
            ["> ready.json"]
        );
        assert_eq!(
            acted("kubectl --context kind-wine -n wine scale deployment wine-api --replicas 3"),
            ["kubectl scale"]
        );
        assert_eq!(
            acted("helm --kube-context kind-wine rollback wine-api 1"),
            ["helm rollback"]
        );
        assert_eq!(
            acted("docker compose up -d && docker compose ps"),
            ["docker compose up"]
        );
        assert_eq!(acted("test -f a && rm -f a"), ["rm"]);
        assert_eq!(acted("sed -i.bak s/a/b/ f"), ["sed -i"]);
    }

    #[test]
    fn checks_that_look_are_not() {
        for command in [
            "docker version --format '{{.Server.Version}}' 2>/dev/null",
            "test \"$(docker inspect --format '{{.State.Health.Status}}' wine-api)\" = healthy",
            "kubectl --context kind-wine get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status} {end}'",
            "helm --kube-context kind-wine --namespace wine status wine-api",
            "command -v kind >/dev/null && ! kind get clusters 2>&1 | grep -qx wine",
            "curl -fsS -o /dev/null http://127.0.0.1:8000/ready",
            "kubectl --context kind-wine rollout status deployment/wine-api -n wine",
            "grep -q 'node/wine-worker drained' drain.log",
            "kill -0 $(cat server.pid)",
        ] {
            assert!(acted(command).is_empty(), "{command}: {:?}", acted(command));
        }
    }
}
