//! The README that goes into a lab's zip: the lab's steps, in order, so a
//! copy taken into another project still says what to do and how to tell
//! that it worked — without the book, the sidecar or this CLI.

use std::fmt::Write;

use crate::manifest::Lab;

/// Where the README goes in the zip: `README.md`, or `LAB-STEPS.md` when the
/// lab ships a README of its own.
pub fn readme_name(lab: &Lab) -> &'static str {
    if lab
        .files
        .iter()
        .any(|f| f.rel.eq_ignore_ascii_case("README.md"))
    {
        "LAB-STEPS.md"
    } else {
        "README.md"
    }
}

/// The lab as Markdown: what it builds, what it needs, then each step with
/// its command, its check and how to undo it.
pub fn lab_readme(lab: &Lab) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {} (module {:02})\n", lab.title, lab.module);
    let _ = writeln!(out, "{}\n", lab.summary.trim());
    let _ = writeln!(out, "About {} minutes.\n", lab.minutes);
    if !lab.requires.is_empty() {
        out.push_str("## You need\n\n");
        for r in &lab.requires {
            let _ = write!(out, "- {}", r.tool);
            if let Some(v) = &r.version {
                let _ = write!(out, " {v} or later");
            }
            if r.optional {
                out.push_str(" (for some steps only)");
            }
            out.push('\n');
        }
        out.push('\n');
    }
    if !lab.ports.is_empty() {
        out.push_str("## Ports\n\n");
        for p in &lab.ports {
            let _ = writeln!(out, "- {}: {}", p.port, p.service);
        }
        out.push('\n');
    }
    out.push_str("## Steps\n\nRun each command in this folder, in order.\n\n");
    for (i, step) in lab.steps.iter().enumerate() {
        let _ = writeln!(out, "### {}. {}\n", i + 1, step.title);
        if !step.text.trim().is_empty() {
            let _ = writeln!(out, "{}\n", step.text.trim());
        }
        if !step.needs.is_empty() {
            let needs: Vec<&str> = step.needs.iter().map(|n| n.describe()).collect();
            let _ = writeln!(out, "Needs {}.\n", needs.join(" and "));
        }
        if let Some(run) = &step.run {
            let _ = writeln!(out, "```sh\n{}\n```\n", run.trim_end());
            if step.service {
                out.push_str("It keeps running: use a second terminal for the next steps.\n\n");
            }
        }
        if let Some(check) = &step.check {
            let _ = write!(out, "**Check:** {}.", check.spec.describe());
            if let Some(hint) = &check.hint {
                let _ = write!(out, " If it fails: {}", hint.trim());
            }
            out.push_str("\n\n");
        }
        if let Some(cleanup) = &step.cleanup {
            let _ = writeln!(out, "**Undo:** `{}`\n", cleanup.trim());
        }
    }
    if lab.steps.iter().any(|s| s.cleanup.is_some()) {
        out.push_str(
            "## Start again\n\nRun the **Undo** commands above from the last step to the first.\n",
        );
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
