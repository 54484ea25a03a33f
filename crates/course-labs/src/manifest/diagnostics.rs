//! serde-saphyr's errors (YAML that is not well-formed) as diagnostics.

use std::path::Path;

use crate::diag::Diagnostic;

/// A YAML error that stops reading (the file is not well-formed YAML), with
/// its place and the likely fix.
pub(super) fn yaml_diagnostic(manifest: &Path, e: &serde_saphyr::Error) -> Diagnostic {
    let (line, col) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let message = plain_message(e);
    let help = if message.contains("\"-\" is only valid inside a block") {
        // `files: [- app.py]`: list syntax of both kinds at once.
        "inside `[ ]` write the entries without `-` (`files: [app.py, notes.md]`), or put each on its own `- app.py` line"
    } else if message.contains("duplicate") {
        "keep one of them"
    } else {
        "check the indentation and the quoting here: a value with `: `, ` #`, `[` or `{` in it needs quotes"
    };
    Diagnostic::new(manifest, line, col, message).with_help(help)
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
