//! The lab's own fields, validated: id, title, module, minutes,
//! requirements, ports and the labs it runs with.

use std::collections::HashSet;

use crate::version::Version;

use super::is_valid_id;
use super::model::{Port, Requirement};
use super::raw::{RawLab, RawPort, RawRequirement, module_number};
use super::reader::Reader;
use super::tree::At;

/// The header fields of a lab, validated.
pub(super) struct Header {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) module: u8,
    pub(super) summary: String,
    pub(super) minutes: u32,
}

/// Id, title, module, summary and minutes. `folder` is the lab folder's name.
pub(super) fn header(r: &mut Reader<'_>, raw: &RawLab, folder: &str) -> Header {
    if let Some(id) = &raw.id {
        lab_id(r, id, folder);
    }
    let module = raw.module.as_ref().map_or(0, |m| {
        module_number(&m.value).unwrap_or_else(|| {
            r.problem(
                m.at,
                "`module` is not a module number from 0 to 99".into(),
                "write the course module the lab belongs to, e.g. `module: 3` (or `03`)",
            );
            0
        })
    });
    if let Some(title) = raw.title.as_ref().filter(|t| t.value.trim().is_empty()) {
        r.problem(
            title.at,
            "`title` is empty".into(),
            "give the lab a short title",
        );
    }
    if let Some(minutes) = raw.minutes.as_ref().filter(|m| m.value == 0) {
        r.problem(
            minutes.at,
            "`minutes` is 0".into(),
            "say how long the lab takes, in minutes",
        );
    }
    let text = |t: &Option<At<String>>| t.as_ref().map(|t| t.value.clone()).unwrap_or_default();
    Header {
        id: text(&raw.id),
        title: text(&raw.title),
        module,
        summary: text(&raw.summary),
        minutes: raw.minutes.as_ref().map_or(0, |m| m.value),
    }
}

fn lab_id(r: &mut Reader<'_>, id: &At<String>, folder: &str) {
    if !is_valid_id(&id.value) {
        r.problem(
            id.at,
            format!("`{}` is not a valid lab id", id.value),
            "use 1–64 lowercase letters, digits and dashes, e.g. `model-serving`",
        );
    } else if id.value != folder {
        r.problem(
            id.at,
            format!(
                "the lab id `{}` differs from its folder name `{folder}`",
                id.value
            ),
            format!(
                "set `id: {folder}` or rename the folder to labs/{}",
                id.value
            ),
        );
    }
}

/// The tools the lab needs, with their minimum versions parsed.
pub(super) fn requirements(r: &mut Reader<'_>, raw: Vec<RawRequirement>) -> Vec<Requirement> {
    let mut requires = Vec::new();
    for req in raw {
        let version = req.version.and_then(|v| {
            let parsed = Version::parse(&v.value);
            if parsed.is_none() {
                r.problem(
                    v.at,
                    format!("`{}` is not a version number", v.value),
                    "write a minimum version such as \"3.11\" or \"1.30.0\" (quoted)",
                );
            }
            parsed
        });
        requires.push(Requirement {
            tool: req.tool,
            version,
            optional: req.optional,
        });
    }
    requires
}

/// The ports the lab binds: none is 0, none twice.
pub(super) fn ports(r: &mut Reader<'_>, raw: Vec<RawPort>) -> Vec<Port> {
    let mut ports = Vec::new();
    let mut seen = HashSet::new();
    for p in raw {
        if p.port == 0 {
            r.problem(
                p.at,
                "port 0 is not a port a lab can declare".into(),
                "give the port the lab's service listens on, e.g. `port: 8000`",
            );
        } else if !seen.insert(p.port) {
            r.problem(
                p.at,
                format!("port {} is declared twice", p.port),
                "list each port once, with the service that listens on it",
            );
        }
        ports.push(Port {
            port: p.port,
            service: p.service,
            line: p.at.0,
        });
    }
    ports
}

/// The labs this one runs with, and the line of each.
pub(super) fn runs_with(r: &mut Reader<'_>, raw: Vec<At<String>>) -> (Vec<String>, Vec<u64>) {
    let mut ids = Vec::new();
    let mut lines = Vec::new();
    for other in raw {
        if !is_valid_id(&other.value) {
            r.problem(
                other.at,
                format!("`{}` in runs_with is not a lab id", other.value),
                "name another lab by its id (its folder under labs/)",
            );
        }
        ids.push(other.value);
        lines.push(other.at.0);
    }
    (ids, lines)
}

/// A size the lab needs (`needs_disk`, `needs_memory`), in bytes: a number
/// and a unit, `2 GiB`, `512 MiB` or `1.5 GB`. Zero, a bare number and an
/// unknown unit are problems.
pub(super) fn size(r: &mut Reader<'_>, raw: Option<At<String>>, name: &str) -> Option<u64> {
    let raw = raw?;
    match parse_size(&raw.value) {
        Some(0) => {
            r.problem(
                raw.at,
                format!("`{name}` is zero"),
                format!(
                    "leave `{name}` out, or give what the lab really needs, e.g. `{name}: 2 GiB`"
                ),
            );
            None
        }
        Some(bytes) => Some(bytes),
        None => {
            r.problem(
                raw.at,
                format!("`{name}: {}` is not a size", raw.value),
                format!(
                    "write a number and a unit (KiB, MiB, GiB, TiB, KB, MB, GB or TB), e.g. `{name}: 2 GiB`"
                ),
            );
            None
        }
    }
}

/// Parses `NUMBER UNIT` (`2 GiB`, `1.5GB`, `512 MiB`) into bytes.
pub(super) fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit = unit.trim();
    let scale: u64 = match unit {
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        _ => return None,
    };
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return None;
    }
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if frac.contains('.') || frac.len() > 3 {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let frac_value: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    let frac_scale = 10u64.pow(u32::try_from(frac.len()).ok()?);
    let bytes = whole
        .checked_mul(scale)?
        .checked_add(frac_value.checked_mul(scale)? / frac_scale)?;
    // More than 64 TiB is a typo, not a lab.
    (bytes <= 64 << 40).then_some(bytes)
}

#[cfg(test)]
mod size_tests {
    use super::parse_size;

    #[test]
    fn sizes_are_read_with_their_unit() {
        assert_eq!(parse_size("2 GiB"), Some(2 << 30));
        assert_eq!(parse_size("512MiB"), Some(512 << 20));
        assert_eq!(parse_size("1.5 GB"), Some(1_500_000_000));
        assert_eq!(parse_size(" 0.25 GiB "), Some(1 << 28));
        assert_eq!(parse_size("0 GiB"), Some(0));
        for bad in [
            "2",
            "2 gigs",
            "GiB",
            "1.2.3 GiB",
            ".5 GiB",
            "5. GiB",
            "-1 GiB",
            "99999 TiB",
            "1.2345 GiB",
        ] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }
}
