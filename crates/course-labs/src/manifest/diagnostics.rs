//! serde-saphyr's errors as diagnostics.

use std::path::Path;

use crate::diag::Diagnostic;

pub(super) fn yaml_diagnostic(manifest: &Path, e: &serde_saphyr::Error) -> Diagnostic {
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
