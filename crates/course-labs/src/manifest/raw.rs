//! The shape of `lab.yaml`: which fields each part takes, read out of the
//! YAML tree into plain structs. Every problem of shape (an unknown or
//! missing field, a wrong type) is collected by the [`Reader`]; a part that
//! cannot be read is left out, so that the rest is still validated.

use crate::files::FileSpec;

use super::reader::{Reader, Shape};
use super::tree::{At, Node, Value};

const LAB: Shape = Shape {
    what: "the lab",
    fields: &[
        "id",
        "title",
        "module",
        "summary",
        "minutes",
        "requires",
        "ports",
        "runs_with",
        "files",
        "ignore",
        "steps",
        "needs_disk",
        "needs_memory",
    ],
    required: &[
        ("id", "id: <the lab's folder name>"),
        ("title", "title: <a short title>"),
        ("module", "module: <the course module, e.g. 3>"),
        (
            "summary",
            "summary: <one paragraph on what the learner builds>",
        ),
        ("minutes", "minutes: <how long the lab takes, e.g. 30>"),
        ("files", "files: [<the files a learner copies>]"),
    ],
};

const REQUIREMENT: Shape = Shape {
    what: "a requirement",
    fields: &["tool", "version", "optional"],
    required: &[("tool", "tool: python")],
};

const PORT: Shape = Shape {
    what: "a port",
    fields: &["port", "service"],
    required: &[
        ("port", "port: 8000"),
        ("service", "service: <what listens>"),
    ],
};

const FILE: Shape = Shape {
    what: "a file entry",
    fields: &["path", "caption", "show"],
    required: &[("path", "path: app.py")],
};

const STEP: Shape = Shape {
    what: "a step",
    fields: &[
        "id",
        "title",
        "text",
        "run",
        "service",
        "timeout",
        "check",
        "cleanup",
        "needs",
        "rerunnable",
        "stops",
    ],
    required: &[
        ("id", "id: <a stable step id>"),
        ("title", "title: <a short title>"),
    ],
};

const CHECK: Shape = Shape {
    what: "a check",
    fields: &[
        "kind",
        "timeout",
        "hint",
        "url",
        "method",
        "body",
        "status",
        "json",
        "host",
        "port",
        "path",
        "contains",
        "command",
        "min_version",
    ],
    required: &[("kind", "kind: http")],
};

/// `lab.yaml` as written, before its values are validated. A required field
/// that is missing or unreadable is `None` (and already reported).
pub(super) struct RawLab {
    pub(super) id: Option<At<String>>,
    pub(super) title: Option<At<String>>,
    pub(super) module: Option<At<String>>,
    pub(super) summary: Option<At<String>>,
    pub(super) minutes: Option<At<u32>>,
    pub(super) requires: Vec<RawRequirement>,
    pub(super) ports: Vec<RawPort>,
    pub(super) runs_with: Vec<At<String>>,
    pub(super) files: Vec<FileSpec>,
    /// Where `files:` is, if it is an empty list.
    pub(super) files_empty_at: Option<(u64, u64)>,
    pub(super) ignore: Vec<At<String>>,
    pub(super) steps: Vec<RawStep>,
    pub(super) needs_disk: Option<At<String>>,
    pub(super) needs_memory: Option<At<String>>,
}

pub(super) struct RawRequirement {
    pub(super) tool: String,
    pub(super) version: Option<At<String>>,
    pub(super) optional: bool,
}

pub(super) struct RawPort {
    pub(super) port: u16,
    pub(super) service: String,
    pub(super) at: (u64, u64),
}

pub(super) struct RawStep {
    pub(super) id: At<String>,
    pub(super) title: String,
    pub(super) text: String,
    pub(super) run: Option<At<String>>,
    pub(super) service: bool,
    pub(super) timeout: Option<At<u64>>,
    pub(super) check: Option<RawCheck>,
    pub(super) cleanup: Option<At<String>>,
    pub(super) needs: Vec<At<String>>,
    pub(super) rerunnable: bool,
    pub(super) stops: Vec<At<String>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum CheckKind {
    Http,
    Tcp,
    File,
    Command,
}

impl CheckKind {
    const ALL: [(&'static str, CheckKind); 4] = [
        ("http", CheckKind::Http),
        ("tcp", CheckKind::Tcp),
        ("file", CheckKind::File),
        ("command", CheckKind::Command),
    ];

    pub(super) fn name(self) -> &'static str {
        CheckKind::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(n, _)| n)
    }
}

pub(super) struct RawCheck {
    pub(super) at: (u64, u64),
    pub(super) kind: CheckKind,
    pub(super) timeout: Option<f64>,
    pub(super) hint: Option<String>,
    /// Every field given beyond kind, timeout and hint, by name.
    pub(super) given: Vec<&'static str>,
    // http
    pub(super) url: Option<String>,
    pub(super) method: Option<String>,
    pub(super) body: Option<String>,
    pub(super) status: Option<u16>,
    pub(super) json: Option<serde_json::Value>,
    // tcp
    pub(super) host: Option<String>,
    pub(super) port: Option<u16>,
    // file
    pub(super) path: Option<String>,
    // file and command
    pub(super) contains: Option<String>,
    // command
    pub(super) command: Option<String>,
    pub(super) min_version: Option<String>,
}

/// A module number as people write it (`3`, `03`, `"03"`), read as text so
/// that a leading zero is not a YAML error: the number, if it is one from 0
/// to 99.
pub(super) fn module_number(text: &str) -> Option<u8> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u8>().ok().filter(|n| *n <= 99)
}

fn value<T>(v: Option<At<T>>) -> Option<T> {
    v.map(|v| v.value)
}

/// Reads the whole manifest. `None` when the document is not a mapping.
pub(super) fn read_lab(r: &mut Reader<'_>, root: &Node) -> Option<RawLab> {
    if matches!(root.value, Value::Null) {
        r.problem(
            root.at,
            "lab.yaml is empty".into(),
            "start with `id: <the lab's folder name>`; the README's lab manifest reference has a complete example",
        );
        return None;
    }
    let f = r.fields(root, &LAB)?;
    let requires = r.list(&f, "requires").iter();
    let requires = requires.filter_map(|n| read_requirement(r, n)).collect();
    let ports = r.list(&f, "ports").iter();
    let ports = ports.filter_map(|n| read_port(r, n)).collect();
    let files = r.list(&f, "files").iter();
    let files = files.filter_map(|n| read_file(r, n)).collect();
    let steps = r.list(&f, "steps").iter();
    let steps = steps.filter_map(|n| read_step(r, n)).collect();
    Some(RawLab {
        id: r.text(&f, "id"),
        title: r.text(&f, "title"),
        module: r.text(&f, "module"),
        summary: r.text(&f, "summary"),
        minutes: r.number(&f, "minutes", 0, i128::from(u32::MAX)),
        requires,
        ports,
        runs_with: r.texts(&f, "runs_with"),
        files,
        files_empty_at: f
            .get("files")
            .filter(|n| matches!(&n.value, Value::Seq(items) if items.is_empty()))
            .map(|n| n.at),
        ignore: r.texts(&f, "ignore"),
        steps,
        needs_disk: r.text(&f, "needs_disk"),
        needs_memory: r.text(&f, "needs_memory"),
    })
}

fn read_requirement(r: &mut Reader<'_>, node: &Node) -> Option<RawRequirement> {
    let f = r.fields(node, &REQUIREMENT)?;
    let tool = value(r.text(&f, "tool"));
    let version = r.text(&f, "version");
    let optional = r.flag(&f, "optional", false);
    Some(RawRequirement {
        tool: tool?,
        version,
        optional,
    })
}

fn read_port(r: &mut Reader<'_>, node: &Node) -> Option<RawPort> {
    let f = r.fields(node, &PORT)?;
    let port = value(r.number(&f, "port", 0, i128::from(u16::MAX)));
    let service = value(r.text(&f, "service"));
    Some(RawPort {
        port: port?,
        service: service?,
        at: node.at,
    })
}

/// An entry of `files:`: a mapping (`- path: app.py`, with `caption:` and
/// `show:` if wanted) or, as people write it by habit, the bare path
/// (`- app.py`).
fn read_file(r: &mut Reader<'_>, node: &Node) -> Option<FileSpec> {
    if let Value::Str(path) = &node.value {
        return Some(FileSpec {
            pattern: path.clone(),
            line: node.at.0,
            column: node.at.1,
            caption: None,
            show: true,
        });
    }
    let f = r.fields(node, &FILE)?;
    let path = r.text(&f, "path");
    let caption = value(r.text(&f, "caption"));
    let show = r.flag(&f, "show", true);
    let path = path?;
    Some(FileSpec {
        pattern: path.value,
        line: path.at.0,
        column: path.at.1,
        caption,
        show,
    })
}

fn read_step(r: &mut Reader<'_>, node: &Node) -> Option<RawStep> {
    let f = r.fields(node, &STEP)?;
    let id = r.text(&f, "id");
    let title = value(r.text(&f, "title"));
    let mut step = RawStep {
        id: At {
            value: String::new(),
            at: node.at,
        },
        title: title.unwrap_or_default(),
        text: value(r.text(&f, "text")).unwrap_or_default(),
        run: r.text(&f, "run"),
        service: r.flag(&f, "service", false),
        timeout: r.number(&f, "timeout", 0, i128::from(u64::MAX)),
        check: f.get("check").and_then(|n| read_check(r, n)),
        cleanup: r.text(&f, "cleanup"),
        needs: r.texts(&f, "needs"),
        rerunnable: r.flag(&f, "rerunnable", false),
        stops: r.texts(&f, "stops"),
    };
    step.id = id?;
    Some(step)
}

fn read_check(r: &mut Reader<'_>, node: &Node) -> Option<RawCheck> {
    let f = r.fields(node, &CHECK)?;
    let kind = read_check_kind(r, &f)?;
    let given = CHECK.fields[3..]
        .iter()
        .copied()
        .filter(|name| f.get(name).is_some())
        .collect();
    Some(RawCheck {
        at: node.at,
        kind,
        timeout: r.seconds(&f, "timeout"),
        hint: value(r.text(&f, "hint")),
        given,
        url: value(r.text(&f, "url")),
        method: value(r.text(&f, "method")),
        body: value(r.text(&f, "body")),
        status: value(r.number(&f, "status", 0, i128::from(u16::MAX))),
        json: f.get("json").map(Node::to_json),
        host: value(r.text(&f, "host")),
        port: value(r.number(&f, "port", 0, i128::from(u16::MAX))),
        path: value(r.text(&f, "path")),
        contains: value(r.text(&f, "contains")),
        command: value(r.text(&f, "command")),
        min_version: value(r.text(&f, "min_version")),
    })
}

fn read_check_kind(r: &mut Reader<'_>, f: &super::reader::Fields<'_>) -> Option<CheckKind> {
    let kind = r.text(f, "kind")?;
    let found = CheckKind::ALL.iter().find(|(n, _)| *n == kind.value);
    if found.is_none() {
        let names = CheckKind::ALL.map(|(n, _)| n);
        r.problem(
            kind.at,
            format!(
                "unknown check kind `{}`, expected one of {}",
                kind.value,
                names.join(", ")
            ),
            crate::conventions::did_you_mean(&kind.value, names)
                .unwrap_or_else(|| format!("a check's `kind` is one of: {}", names.join(", "))),
        );
    }
    found.map(|(_, k)| *k)
}
