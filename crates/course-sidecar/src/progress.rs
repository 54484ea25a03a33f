//! Earned progress: `WORKSPACE/progress.json`, one entry per step whose
//! check passed on this machine.
//!
//! Only the sidecar writes an earned entry, when it sees the step's check
//! pass; no request can claim one. Entries brought in from another machine
//! (an import) are kept apart as `imported`: a check that passes here later
//! turns them into earned ones. The file is written whole to a temporary
//! file in the same folder and renamed over the old one, so a reader never
//! sees half of it; a file that does not parse is set aside, never dropped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use course_labs::Catalog;
use serde::{Deserialize, Serialize};

use crate::state::{lock, now_ms};

/// The file's name, in the workspace folder.
pub(crate) const FILE: &str = "progress.json";
/// The file's format version.
const VERSION: u32 = 1;
/// A larger file is not read (it is set aside): the course has a few
/// hundred steps, a few hundred bytes each.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Check messages are kept to this many characters.
const MAX_MESSAGE_CHARS: usize = 200;

/// Writers of any workspace's file take turns (a read-modify-write).
static WRITING: Mutex<()> = Mutex::new(());

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Progress {
    pub(crate) version: u32,
    pub(crate) entries: Vec<Entry>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            version: VERSION,
            entries: Vec::new(),
        }
    }
}

/// One step done.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) lab: String,
    pub(crate) step: String,
    /// When its check passed, UTC (`2026-12-07T06:00:00Z`).
    pub(crate) at: String,
    pub(crate) check: CheckRecord,
    /// Brought in by an import, not seen passing on this machine.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) imported: bool,
}

/// The check's result when it passed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct CheckRecord {
    pub(crate) state: String,
    pub(crate) message: String,
}

/// What an import did.
#[derive(Debug, Default, Serialize)]
pub(crate) struct ImportReport {
    /// Entries added, marked `imported`.
    pub(crate) imported: usize,
    /// Entries for steps already in the file (earned or imported): kept as they were.
    pub(crate) kept: usize,
    /// Entries naming no lab or step of this course, or not passing.
    pub(crate) ignored: usize,
}

pub(crate) fn path(workspace: &Path) -> PathBuf {
    workspace.join(FILE)
}

/// The file's entries; none if it does not exist. A file that cannot be
/// read as progress is renamed `progress.json.bad-<time>` with a warning,
/// and counts as empty.
pub(crate) fn load(workspace: &Path) -> Progress {
    let file = path(workspace);
    let problem = match std::fs::metadata(&file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Progress::default(),
        Err(e) => format!("it cannot be read: {e}"),
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            format!("it is larger than {MAX_FILE_BYTES} bytes")
        }
        Ok(_) => match std::fs::read(&file) {
            Err(e) => format!("it cannot be read: {e}"),
            Ok(bytes) => match serde_json::from_slice::<Progress>(&bytes) {
                Ok(p) if p.version == VERSION => return p,
                Ok(p) => format!("its version is {}, this sidecar reads {VERSION}", p.version),
                Err(e) => format!("it is not progress JSON ({e})"),
            },
        },
    };
    // Two bad files in one second keep both.
    let stamp = compact_utc(now_ms());
    let aside = (1..100)
        .map(|n| match n {
            1 => workspace.join(format!("{FILE}.bad-{stamp}")),
            n => workspace.join(format!("{FILE}.bad-{stamp}-{n}")),
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| workspace.join(format!("{FILE}.bad-{stamp}-last")));
    match std::fs::rename(&file, &aside) {
        Ok(()) => tracing::warn!(
            "{} was set aside as {}: {problem}; progress starts again from the checks that pass (import the old file from the progress page if you have an export)",
            file.display(),
            aside.display()
        ),
        Err(e) => tracing::error!(
            "{} could not be set aside as {} ({e}): {problem}",
            file.display(),
            aside.display()
        ),
    }
    Progress::default()
}

fn save(workspace: &Path, progress: &Progress) -> std::io::Result<()> {
    std::fs::create_dir_all(workspace)?;
    let tmp = workspace.join(format!(".{FILE}.tmp-{}", std::process::id()));
    let bytes = serde_json::to_vec_pretty(progress).map_err(std::io::Error::other)?;
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.write_all(b"\n")?;
        f.sync_all()
    })();
    match written.and_then(|()| std::fs::rename(&tmp, path(workspace))) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Records that `step` of `lab` passed its check on this machine, unless it
/// is recorded as earned already (the first pass is kept). An imported
/// entry for the step becomes an earned one.
pub(crate) fn record_pass(workspace: &Path, lab: &str, step: &str, message: &str) {
    let _turn = lock(&WRITING);
    let mut progress = load(workspace);
    if progress
        .entries
        .iter()
        .any(|e| e.lab == lab && e.step == step && !e.imported)
    {
        return;
    }
    progress
        .entries
        .retain(|e| !(e.lab == lab && e.step == step));
    progress.entries.push(Entry {
        lab: lab.to_owned(),
        step: step.to_owned(),
        at: utc(now_ms()),
        check: CheckRecord {
            state: "pass".into(),
            message: clip(message),
        },
        imported: false,
    });
    match save(workspace, &progress) {
        Ok(()) => tracing::info!(lab, step, "step earned: recorded in {FILE}"),
        Err(e) => tracing::error!("could not write {}: {e}", path(workspace).display()),
    }
}

/// Adds the entries of an exported file (`body`) for steps not in the file
/// yet, marked `imported`. Entries must name a lab and step of `catalog`
/// and have passed; the rest are counted as ignored.
pub(crate) fn import(
    workspace: &Path,
    catalog: &Catalog,
    body: &[u8],
) -> Result<ImportReport, String> {
    let incoming: Progress = serde_json::from_slice(body)
        .map_err(|e| format!("this is not an exported progress file: {e}"))?;
    if incoming.version != VERSION {
        return Err(format!(
            "this progress file is version {}, this sidecar reads version {VERSION}",
            incoming.version
        ));
    }
    let _turn = lock(&WRITING);
    let mut progress = load(workspace);
    let mut report = ImportReport::default();
    for e in incoming.entries {
        let known = catalog
            .labs
            .iter()
            .find(|l| l.id == e.lab)
            .is_some_and(|l| l.steps.iter().any(|s| s.id == e.step));
        if !known || e.check.state != "pass" {
            report.ignored += 1;
            continue;
        }
        if progress
            .entries
            .iter()
            .any(|x| x.lab == e.lab && x.step == e.step)
        {
            report.kept += 1;
            continue;
        }
        progress.entries.push(Entry {
            at: if is_utc(&e.at) { e.at } else { utc(now_ms()) },
            check: CheckRecord {
                state: "pass".into(),
                message: clip(&e.check.message),
            },
            imported: true,
            lab: e.lab,
            step: e.step,
        });
        report.imported += 1;
    }
    if report.imported > 0 {
        save(workspace, &progress).map_err(|e| {
            tracing::error!("could not write {}: {e}", path(workspace).display());
            "the progress file could not be written; the sidecar's log says why".to_owned()
        })?;
    }
    Ok(report)
}

fn clip(message: &str) -> String {
    message.chars().take(MAX_MESSAGE_CHARS).collect()
}

/// `YYYY-MM-DDTHH:MM:SSZ` of Unix milliseconds.
pub(crate) fn utc(ms: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `YYYYMMDDTHHMMSSZ`, for file names.
fn compact_utc(ms: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(ms);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

fn is_utc(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// The UTC calendar date and time of Unix milliseconds.
fn civil(ms: u64) -> (i64, u32, u32, u64, u64, u64) {
    let secs = ms / 1000;
    let (y, m, d) = course_labs::civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0));
    let rem = secs % 86_400;
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_796_529_600_000), "2026-12-06T04:00:00Z");
        assert_eq!(utc(951_825_600_000), "2000-02-29T12:00:00Z");
        assert!(is_utc(&utc(now_ms())));
        assert!(!is_utc("2026-12-06 04:00:00Z"));
    }

    #[test]
    fn a_pass_is_recorded_once_and_a_corrupt_file_is_set_aside() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ws = tmp.path();
        record_pass(ws, "demo", "hello", "app.py contains print");
        record_pass(ws, "demo", "hello", "again");
        let p = load(ws);
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.entries[0].check.message, "app.py contains print");
        assert!(!p.entries[0].imported);
        let leftovers: Vec<_> = std::fs::read_dir(ws)
            .expect("read_dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            leftovers,
            vec![FILE.to_owned()],
            "no temporary file is left"
        );

        std::fs::write(path(ws), "{ not json").expect("write");
        assert_eq!(load(ws), Progress::default());
        let aside: Vec<_> = std::fs::read_dir(ws)
            .expect("read_dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(aside.len(), 1);
        assert!(aside[0].starts_with("progress.json.bad-"), "{aside:?}");
        assert_eq!(
            std::fs::read_to_string(ws.join(&aside[0])).expect("read"),
            "{ not json"
        );
        // A second bad file in the same second is kept too.
        std::fs::write(path(ws), "[]").expect("write");
        assert_eq!(load(ws), Progress::default());
        std::fs::write(path(ws), "nul").expect("write");
        assert_eq!(load(ws), Progress::default());
        let kept = std::fs::read_dir(ws).expect("read_dir").count();
        assert_eq!(kept, 3, "every bad file is kept");
    }
}
