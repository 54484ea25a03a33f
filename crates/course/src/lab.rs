//! `course lab list` and `course lab export`.

use std::path::Path;

use anyhow::{Result, bail};
use course_labs::{ExportError, export_lab, load_catalog, nearest_id};

use crate::project::Project;

/// Prints every lab: id, module, time, title.
pub fn list(project: &Project) -> Result<()> {
    let (catalog, problems) = load_catalog(&project.labs);
    for lab in &catalog.labs {
        println!(
            "{:<24} module {:02}  {:>4} min  {}",
            lab.id, lab.module, lab.minutes, lab.title
        );
    }
    for p in &problems {
        eprintln!("{p}");
    }
    if !problems.is_empty() {
        bail!(
            "{} lab manifest problem(s); run `course check` for the full list",
            problems.len()
        );
    }
    Ok(())
}

/// Copies the lab's files into `dir`, saying what it wrote.
pub fn export(project: &Project, id: &str, dir: &Path, force: bool) -> Result<()> {
    let (catalog, problems) = load_catalog(&project.labs);
    let Some(lab) = catalog.get(id) else {
        let mut msg = format!("unknown lab `{id}`");
        if let Some(near) = nearest_id(id, catalog.ids()) {
            msg.push_str(&format!("\n  help: did you mean `{near}`?"));
        } else if !problems.is_empty() {
            msg.push_str("\n  help: some lab manifests have errors; run `course check`");
        } else {
            msg.push_str("\n  help: `course lab list` shows the labs");
        }
        bail!(msg);
    };
    match export_lab(lab, dir, force) {
        Ok(report) => {
            for f in &report.written {
                println!("  wrote {}", dir.join(f).display());
            }
            println!(
                "Exported lab `{}` ({} files) into {}",
                lab.id,
                report.written.len(),
                dir.display()
            );
            Ok(())
        }
        Err(e @ ExportError::WouldOverwrite { .. }) => {
            bail!(
                "{e}\n  help: nothing was written; pass --force to replace them, or choose an empty folder"
            )
        }
        Err(e) => Err(e.into()),
    }
}
