//! `course lab list` and `course lab export`.

use std::path::Path;

use anyhow::{Context, Result, bail};
use course_labs::conventions::did_you_mean;
use course_labs::{Catalog, ExportError, Lab, export_lab, load_catalog};

use crate::project::Project;

/// The lab `id` of the catalog, or an error that names the nearest id.
pub(crate) fn lab_by_id<'a>(catalog: &'a Catalog, id: &str) -> Result<&'a Lab> {
    catalog.get(id).ok_or_else(|| {
        let help = did_you_mean(id, catalog.ids())
            .unwrap_or_else(|| "`course lab list` shows the labs".to_owned());
        anyhow::anyhow!("unknown lab `{id}`\n  help: {help}")
    })
}

/// The catalog, once the manifests that matter are sound: lab `id`'s alone
/// (another lab's half-written manifest is not this lab's problem, and is
/// only counted), or every lab's. Prints each problem and fails otherwise.
pub(crate) fn sound_catalog(project: &Project, id: Option<&str>) -> Result<Catalog> {
    let (catalog, mut problems) = load_catalog(&project.labs);
    if let Some(id) = id {
        let mine = project.labs.join(id);
        let others = problems
            .iter()
            .filter(|p| !p.file.starts_with(&mine))
            .count();
        if others > 0 {
            eprintln!(
                "note: {others} problem(s) in other labs' manifests, not checked here (`course check` lists them)"
            );
        }
        problems.retain(|p| p.file.starts_with(&mine));
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        bail!(
            "{} lab manifest problem(s); fix them first (`course check` lists them)",
            problems.len()
        );
    }
    Ok(catalog)
}

/// Lab `id`, or every lab (in module order) when none is named.
pub(crate) fn chosen<'a>(catalog: &'a Catalog, id: Option<&str>) -> Result<Vec<&'a Lab>> {
    Ok(match id {
        Some(id) => vec![lab_by_id(catalog, id)?],
        None => {
            let mut labs: Vec<&Lab> = catalog.labs.iter().collect();
            labs.sort_by_key(|l| (l.module, l.id.clone()));
            labs
        }
    })
}

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
        let help = match did_you_mean(id, catalog.ids()) {
            Some(help) => help,
            None if !problems.is_empty() => {
                "some lab manifests have errors; run `course check`".to_owned()
            }
            None => "`course lab list` shows the labs".to_owned(),
        };
        bail!("unknown lab `{id}`\n  help: {help}");
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

/// Runs every check of the labs (or of one lab, or of a folder of files
/// that is not a lab), printing a line per tool and file and a summary.
/// Returns whether everything passed.
pub fn test(project: &Project, id: Option<&str>, path: Option<&Path>) -> Result<bool> {
    let tools = crate::verify::Tools::new(&project.root);
    let mut outcomes = Vec::new();
    let mut report = |o: crate::verify::Outcome| {
        println!("{o}");
        outcomes.push(o);
    };
    if let Some(dir) = path {
        let dir = &dir
            .canonicalize()
            .with_context(|| format!("opening {}", dir.display()))?;
        let label = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("files")
            .to_owned();
        let files = crate::verify::all_files(dir);
        if files.is_empty() {
            bail!("{} holds no files to check", dir.display());
        }
        crate::verify::verify(&label, dir, &files, &tools)
            .into_iter()
            .for_each(&mut report);
    } else {
        let catalog = sound_catalog(project, id)?;
        let labs = chosen(&catalog, id)?;
        for lab in labs {
            let files: Vec<String> = lab.files.iter().map(|f| f.rel.clone()).collect();
            crate::verify::verify(&lab.id, &lab.dir, &files, &tools)
                .into_iter()
                .for_each(&mut report);
        }
    }
    let (_, failed, _, line) = crate::verify::summary(&outcomes);
    println!("labs: {line}");
    Ok(failed == 0)
}
