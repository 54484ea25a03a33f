//! `course build`: mdBook in process with our preprocessors registered
//! directly, then the lab zips and widget files written into the site.
//! (`course serve` builds through the same `render`, with its own
//! renderer: see `serve::render`.)

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mdbook_labs::{Asset, LabsPreprocessor};

use crate::project::Project;

/// What a build produced.
#[derive(Debug)]
pub struct Built {
    /// The site folder.
    pub dir: PathBuf,
    /// How long it took.
    pub elapsed: Duration,
}

/// Builds the site into `dest` (default: the book's build-dir). The site is
/// built beside `dest` and moved into place at the end, so a failed build
/// leaves the previous site as it was.
pub fn build(project: &Project, dest: Option<&Path>) -> Result<Built> {
    let start = Instant::now();
    let dest = match dest {
        Some(d) => std::path::absolute(d).with_context(|| format!("resolving {}", d.display()))?,
        None => project.build.clone(),
    };
    let parent = dest
        .parent()
        .context("the destination has no parent folder")?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("site");
    let staging = parent.join(format!(".{name}.building-{}", std::process::id()));
    let result = build_into(project, &staging);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    // Swap: old site out of the way, new one in, old one removed.
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    if dest.exists() {
        std::fs::rename(&dest, &old)
            .with_context(|| format!("moving the old site {}", dest.display()))?;
    }
    std::fs::rename(&staging, &dest)
        .with_context(|| format!("moving the new site to {}", dest.display()))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(Built {
        dir: dest,
        elapsed: start.elapsed(),
    })
}

/// Builds the whole site into `dir` (which the HTML renderer empties first).
pub fn build_into(project: &Project, dir: &Path) -> Result<()> {
    let md = project.load_book()?;
    let (site, assets) = render(md, dir)?;
    mdbook_labs::write_assets(&site, &assets)
}

/// Runs the build (our preprocessors, then the renderers into `dir`);
/// returns the site folder and the labs' files still to write into it.
pub(crate) fn render(mut md: mdbook_driver::MDBook, dir: &Path) -> Result<(PathBuf, Vec<Asset>)> {
    md.config.build.build_dir = dir.to_path_buf();
    let labs = LabsPreprocessor::new();
    md.with_preprocessor(labs.clone());
    md.build().map_err(|e| anyhow::anyhow!(chain(&e)))?;
    let site = md.build_dir_for("html");
    // mdBook copies src/labs/ (left there by a stock `mdbook build`) into the
    // site; that folder is ours to fill, so replace it with this build's files.
    let generated = site.join("labs");
    if generated.is_dir() {
        std::fs::remove_dir_all(&generated)
            .with_context(|| format!("clearing {}", generated.display()))?;
    }
    Ok((site, labs.take_assets()))
}

/// mdBook's errors nest the preprocessor's message under "Rendering failed";
/// show every level.
pub(crate) fn chain(e: &anyhow::Error) -> String {
    e.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n  caused by: ")
}
