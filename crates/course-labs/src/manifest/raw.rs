//! The raw serde shape of `lab.yaml`.

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::pos;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLab {
    pub(super) id: Spanned<String>,
    pub(super) title: String,
    pub(super) module: Spanned<String>,
    pub(super) summary: String,
    pub(super) minutes: u32,
    #[serde(default)]
    pub(super) requires: Vec<RawRequirement>,
    #[serde(default)]
    pub(super) ports: Vec<Spanned<RawPort>>,
    #[serde(default)]
    pub(super) runs_with: Vec<Spanned<String>>,
    pub(super) files: Vec<Spanned<RawFile>>,
    #[serde(default)]
    pub(super) ignore: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) steps: Vec<RawStep>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRequirement {
    pub(super) tool: String,
    pub(super) version: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) optional: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPort {
    pub(super) port: u16,
    pub(super) service: String,
}

/// An entry of `files:`: a mapping (`- path: app.py`, with `caption:` and
/// `show:` if wanted) or, as people write it by habit, the bare path
/// (`- app.py`).
pub(super) struct RawFile {
    pub(super) path: String,
    /// Where the path is, when the entry is a mapping (else the entry's place).
    pub(super) at: Option<(u64, u64)>,
    pub(super) caption: Option<String>,
    pub(super) show: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFileMapping {
    pub(super) path: Spanned<String>,
    pub(super) caption: Option<String>,
    #[serde(default = "yes")]
    pub(super) show: bool,
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

pub(super) fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub(super) id: Spanned<String>,
    pub(super) title: String,
    #[serde(default)]
    pub(super) text: String,
    pub(super) run: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) service: bool,
    pub(super) timeout: Option<u64>,
    pub(super) check: Option<Spanned<RawCheck>>,
    pub(super) cleanup: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) needs: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) rerunnable: bool,
    #[serde(default)]
    pub(super) stops: Vec<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub(super) enum CheckKind {
    Http,
    Tcp,
    File,
    Command,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    pub(super) kind: CheckKind,
    pub(super) timeout: Option<f64>,
    pub(super) hint: Option<String>,
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

impl RawLab {
    pub(super) fn files_spec(&self) -> Vec<crate::files::FileSpec> {
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
