//! What the embedded labs need beside the chapters: each shown file
//! highlighted (in parallel), the zips, the widget's files and a page per
//! shown file; and writing them into a site.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use course_labs::Lab;
use sha2::{Digest, Sha256};

use crate::render::{self, zip_path};
use crate::{Asset, LabsConfig, highlight};

/// The widget's stylesheet, built in; `theme/labs.css` on disk overrides it.
const LABS_CSS: &str = include_str!("../../../theme/labs.css");
/// The widget's script, built in from the parts in `theme/labs/`, in the
/// order they are joined (each uses what the parts before it define). A part
/// of the same name in the theme folder's `labs/` overrides the built-in one.
const LABS_JS: [(&str, &str); 8] = [
    ("base.js", include_str!("../../../theme/labs/base.js")),
    ("files.js", include_str!("../../../theme/labs/files.js")),
    ("sidecar.js", include_str!("../../../theme/labs/sidecar.js")),
    ("help.js", include_str!("../../../theme/labs/help.js")),
    ("lab.js", include_str!("../../../theme/labs/lab.js")),
    (
        "progress.js",
        include_str!("../../../theme/labs/progress.js"),
    ),
    ("doctor.js", include_str!("../../../theme/labs/doctor.js")),
    ("start.js", include_str!("../../../theme/labs/start.js")),
];

/// The embedded labs, built for the site.
pub(crate) struct Site {
    /// Each lab's files, read and highlighted, by lab id.
    pub(crate) contents: BTreeMap<String, Vec<render::FileContent>>,
    /// Each lab's zip size in bytes, by lab id.
    pub(crate) zip_sizes: BTreeMap<String, usize>,
    /// Where the widget's files are.
    pub(crate) asset_urls: render::Assets,
    /// The templates.
    pub(crate) tera: tera::Tera,
    /// Every file to write: zips, the widget's files, the file pages.
    pub(crate) assets: Vec<Asset>,
}

/// Pass 2 of the expansion: highlights the files of `labs`, zips them, and
/// renders their file pages; `embedded_at` is the page of each lab.
pub(crate) fn build(
    cfg: &LabsConfig,
    root: &Path,
    labs: &[&Lab],
    embedded_at: &BTreeMap<String, String>,
) -> Result<Site> {
    let started = std::time::Instant::now();
    let contents = highlight_all(labs, cfg.cache_dir(root).as_deref())?;
    tracing::debug!(
        "highlighted {} labs in {:.1?}",
        labs.len(),
        started.elapsed()
    );
    let (mut assets, zip_sizes) = zip_all(labs)?;
    let used_classes = contents
        .values()
        .flatten()
        .filter_map(|c| c.highlighted.as_ref())
        .flat_map(|h| h.classes.iter());
    let highlight_css = highlight::theme_css(used_classes);
    let (asset_urls, mut static_assets) = static_assets(&cfg.theme_dir(root), highlight_css)?;
    assets.append(&mut static_assets);
    tracing::debug!("highlighted and zipped after {:.1?}", started.elapsed());
    let tera = render::load_templates(Some(&cfg.templates_dir(root)))?;
    for lab in labs {
        let input = render::FilePagesInput {
            lab,
            contents: &contents[lab.id.as_str()],
            chapter: embedded_at.get(&lab.id).map_or("", String::as_str),
            assets: &asset_urls,
        };
        for (path, html) in render::render_file_pages(&tera, &input)? {
            assets.push(Asset {
                path,
                bytes: html.into_bytes(),
            });
        }
    }
    Ok(Site {
        contents,
        zip_sizes,
        asset_urls,
        tera,
        assets,
    })
}

/// The zip of each lab, as assets, and their sizes by lab id.
fn zip_all(labs: &[&Lab]) -> Result<(Vec<Asset>, BTreeMap<String, usize>)> {
    // One thread per lab: compressing is the slow part of a first build.
    let zips: Vec<std::io::Result<Vec<u8>>> = std::thread::scope(|s| {
        let handles: Vec<_> = labs
            .iter()
            .map(|lab| s.spawn(move || course_labs::lab_zip(lab)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("a zipping thread panicked")))
            })
            .collect()
    });
    let mut assets = Vec::new();
    let mut sizes = BTreeMap::new();
    for (lab, zip) in labs.iter().zip(zips) {
        let bytes = zip.with_context(|| format!("building the zip of lab `{}`", lab.id))?;
        sizes.insert(lab.id.clone(), bytes.len());
        assets.push(Asset {
            path: zip_path(&lab.id),
            bytes,
        });
    }
    Ok((assets, sizes))
}

/// A file's place (lab, file) and its rendered content.
type Highlighted = ((usize, usize), render::FileContent);

fn highlight_all(
    labs: &[&Lab],
    cache: Option<&Path>,
) -> Result<BTreeMap<String, Vec<render::FileContent>>> {
    let jobs: Vec<(usize, usize)> = labs
        .iter()
        .enumerate()
        .flat_map(|(l, lab)| (0..lab.files.len()).map(move |f| (l, f)))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(jobs.len().max(1));
    // Each thread takes the next file until none is left, so one large
    // file does not hold up a fixed share of the others.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<Vec<Highlighted>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(l, f)) = jobs.get(i) else {
                            return Ok(done);
                        };
                        done.push((
                            (l, f),
                            render::file_content(labs[l], &labs[l].files[f], cache)?,
                        ));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a highlighting thread panicked")))
            })
            .collect()
    });
    let mut out: BTreeMap<String, Vec<Option<render::FileContent>>> = labs
        .iter()
        .map(|lab| (lab.id.clone(), vec![None; lab.files.len()]))
        .collect();
    for part in results {
        for ((l, f), c) in part? {
            if let Some(slot) = out.get_mut(&labs[l].id) {
                slot[f] = Some(c);
            }
        }
    }
    Ok(out
        .into_iter()
        .map(|(id, v)| (id, v.into_iter().flatten().collect()))
        .collect())
}

fn static_assets(theme_dir: &Path, highlight_css: String) -> Result<(render::Assets, Vec<Asset>)> {
    let read = |name: &str, builtin: &str| -> Result<Vec<u8>> {
        let p = theme_dir.join(name);
        if p.is_file() {
            std::fs::read(&p).with_context(|| format!("reading {}", p.display()))
        } else {
            Ok(builtin.as_bytes().to_vec())
        }
    };
    refuse_unread_scripts(theme_dir)?;
    // One script for the page to load, run once however often it is loaded.
    let mut js = b"// The MLOps course's lab widget: theme/labs/*.js, joined by mdbook-labs.\n\
                   if (!window.courseLabs) {\n"
        .to_vec();
    for (name, builtin) in LABS_JS {
        js.extend(read(&format!("labs/{name}"), builtin)?);
        if js.last() != Some(&b'\n') {
            js.push(b'\n');
        }
    }
    js.extend(b"}\n");
    let files = [
        ("labs/labs.css", read("labs.css", LABS_CSS)?),
        ("labs/labs-highlight.css", highlight_css.into_bytes()),
        ("labs/labs.js", js),
    ];
    let url = |path: &str, bytes: &[u8]| {
        let hash = Sha256::digest(bytes);
        let hex: String = hash.iter().take(5).map(|b| format!("{b:02x}")).collect();
        format!("{path}?v={hex}")
    };
    let urls = render::Assets {
        css: url(files[0].0, &files[0].1),
        highlight_css: url(files[1].0, &files[1].1),
        js: url(files[2].0, &files[2].1),
        css_text: String::from_utf8_lossy(&files[0].1).into_owned(),
    };
    Ok((
        urls,
        files
            .into_iter()
            .map(|(path, bytes)| Asset {
                path: path.to_owned(),
                bytes,
            })
            .collect(),
    ))
}

/// A script in the theme folder that no part of [`LABS_JS`] is named after
/// would be left out of the page without a word: a `labs.js` written for
/// the widget as one file, or a part whose name has a typo. Each is an error
/// that names the parts.
fn refuse_unread_scripts(theme_dir: &Path) -> Result<()> {
    let parts: Vec<&str> = LABS_JS.iter().map(|(name, _)| *name).collect();
    let mut unread = Vec::new();
    if theme_dir.join("labs.js").is_file() {
        unread.push(theme_dir.join("labs.js"));
    }
    if let Ok(dir) = std::fs::read_dir(theme_dir.join("labs")) {
        for entry in dir.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".js") && !parts.contains(&name.as_ref()) {
                unread.push(entry.path());
            }
        }
    }
    unread.sort();
    if unread.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = unread
        .iter()
        .map(|p| format!("  {}", p.display()))
        .collect();
    anyhow::bail!(
        "the widget's script is read from {}/labs/ as these parts only: {}; these scripts would be left out:\n{}\n  help: move what each changes into the part it belongs to, copied from the course's theme/labs/, or remove it",
        theme_dir.display(),
        parts.join(", "),
        list.join("\n")
    )
}

/// Writes assets under `dir`, each atomically and only when its bytes
/// changed (so a file watcher sees no change when nothing changed).
pub fn write_assets(dir: &Path, assets: &[Asset]) -> Result<()> {
    for a in assets {
        let target = dir.join(&a.path);
        if std::fs::read(&target).is_ok_and(|old| old == a.bytes) {
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let tmp = target.with_extension("tmp-labs");
        std::fs::write(&tmp, &a.bytes).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &target).with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(())
}

/// Removes the file pages under `dir/labs/*/files/` and the zips
/// `dir/labs/*.zip` that `assets` no longer has (a file left a lab, or a lab
/// went), and a gone lab's emptied folders, so that a site built from a
/// folder that keeps assets between builds (stock mdBook's `src/labs/`)
/// never serves a stale page or zip. Other files are left alone.
pub fn prune_file_pages(dir: &Path, assets: &[Asset]) -> Result<()> {
    let keep: std::collections::BTreeSet<&str> = assets.iter().map(|a| a.path.as_str()).collect();
    let Ok(labs) = std::fs::read_dir(dir.join("labs")) else {
        return Ok(());
    };
    for lab in labs.flatten() {
        let name = lab.file_name().to_string_lossy().into_owned();
        if name.ends_with(".zip") && lab.path().is_file() {
            if !keep.contains(format!("labs/{name}").as_str()) {
                std::fs::remove_file(lab.path())
                    .with_context(|| format!("removing {}", lab.path().display()))?;
            }
            continue;
        }
        let files = lab.path().join("files");
        let Ok(entries) = std::fs::read_dir(&files) else {
            continue;
        };
        for entry in entries.flatten() {
            let rel = format!(
                "labs/{}/files/{}",
                lab.file_name().to_string_lossy(),
                entry.file_name().to_string_lossy()
            );
            if entry.path().is_file() && !keep.contains(rel.as_str()) {
                std::fs::remove_file(entry.path())
                    .with_context(|| format!("removing {}", entry.path().display()))?;
            }
        }
        // A lab that went leaves empty folders: remove them (only if empty).
        let _ = std::fs::remove_dir(&files);
        let _ = std::fs::remove_dir(lab.path());
    }
    Ok(())
}
