//! Rebuilding after a change: the quick build that pages reload from (a
//! layer of the changed pages, or every page with the last search index),
//! then the whole site behind it, search index included.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::render::{ServeBuild, Served, build_for_serve};
use super::watch::Sources;
use super::{ServeState, reload};
use crate::project::Project;

/// Layers stacked past this many make the next rebuild a whole one.
const MAX_LAYERS: usize = 8;

/// Rebuilds into a new folder (see the module's doc) after the files
/// `changed` changed: a layer of the changed pages when only chapters'
/// text can have changed and few layers are stacked, else every page. On
/// success serves it, tells pages to reload (if a page changed) and returns
/// its generation, for the full build behind it; on failure keeps the old
/// site and shows the error.
pub fn rebuild(project: &Project, state: &ServeState, changed: &[PathBuf]) -> Option<u64> {
    let start = Instant::now();
    let n = state.stack.next_generation();
    let dir = state.work.join(format!("site-{n}"));
    // Read after the generation moved on: a full build behind an older
    // rebuild can no longer switch the site under this one.
    let sources = Sources::of(project);
    let (previous, below) = state.stack.base();
    let previous = previous.filter(|r| {
        below.len() < MAX_LAYERS
            && changed
                .iter()
                .all(|p| sources.only_text(p, |s| r.is_chapter(s)))
    });
    let built = build_for_serve(project, &dir, ServeBuild::Pages, previous.as_ref()).and_then(
        |(rendered, served)| {
            if served == Served::Whole
                && let Some(last) = below
                    .iter()
                    .rev()
                    .find(|l| l.join("searchindex.js").is_file())
            {
                keep_search_index(last, &dir)?;
            }
            Ok((rendered, served))
        },
    );
    match built {
        Ok((_, Served::Layer)) if is_empty_dir(&dir) => {
            // Nothing a reader sees changed (a file saved unchanged, or one
            // no page shows): no reload, unless a failed rebuild's error
            // is on the pages and must go.
            let _ = std::fs::remove_dir_all(&dir);
            tracing::info!("no page changed ({:.0?})", start.elapsed());
            let had_error = state
                .error
                .write()
                .ok()
                .and_then(|mut e| e.take())
                .is_some();
            if had_error {
                let _ = state.events.send(reload::RELOAD.to_owned());
            }
            // The site is as indexed as before; if a full build is pending,
            // this generation takes it over.
            if state.stack.carry_index(n) {
                None
            } else {
                Some(n)
            }
        }
        Ok((rendered, served)) => {
            let what = match served {
                Served::Whole => {
                    // The folders served before go a moment later.
                    remove_later(state.stack.replace(dir, rendered));
                    "rebuilt"
                }
                Served::Layer => {
                    state.stack.push_layer(dir, rendered);
                    "rebuilt the changed pages"
                }
            };
            if let Ok(mut e) = state.error.write() {
                *e = None;
            }
            let _ = state.events.send(reload::RELOAD.to_owned());
            tracing::info!("{what} in {:.0?}", start.elapsed());
            Some(n)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            report_failure(state, &e);
            None
        }
    }
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
}

/// Until the full build behind a rebuild is served, search uses the last
/// complete index (one edit behind) rather than the empty one.
fn keep_search_index(old: &Path, new: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(old) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("searchindex") {
            let to = new.join(&name);
            let _ = std::fs::remove_file(&to);
            // The old folder goes soon; a link keeps the file without a copy.
            std::fs::hard_link(entry.path(), &to)
                .or_else(|_| std::fs::copy(entry.path(), &to).map(drop))
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Removes folders once requests still reading them are done.
fn remove_later(dirs: Vec<PathBuf>) {
    if dirs.is_empty() {
        return;
    }
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        for dir in dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    });
}

fn report_failure(state: &ServeState, e: &anyhow::Error) {
    let message = format!("{e:#}");
    eprintln!("error: the rebuild failed; still serving the last good site\n{message}");
    if let Ok(mut slot) = state.error.write() {
        *slot = Some(message.clone());
    }
    let _ = state.events.send(reload::error_message(&message));
}

/// The thread that builds the whole site (search index included) behind
/// each rebuild. It receives generations and builds only the newest: a
/// rebuild started meanwhile makes an older full build pointless.
pub(super) fn spawn_indexer(project: Project, state: ServeState) -> Result<mpsc::Sender<u64>> {
    let (tx, rx) = mpsc::channel::<u64>();
    std::thread::Builder::new()
        .name("course-index".into())
        .spawn(move || {
            while let Ok(mut n) = rx.recv() {
                while let Ok(newer) = rx.try_recv() {
                    n = newer;
                }
                if state.stopped.load(Ordering::SeqCst) {
                    return;
                }
                if state.stack.generation() != n {
                    continue;
                }
                let start = Instant::now();
                let dir = state.work.join(format!("site-{n}-full"));
                match build_for_serve(&project, &dir, ServeBuild::Full, None) {
                    Ok((rendered, _)) => {
                        // Switch only if no rebuild started since.
                        match state.stack.replace_if_current(n, dir.clone(), rendered) {
                            Some(old) => {
                                tracing::info!("search index updated in {:.0?}", start.elapsed());
                                remove_later(old);
                            }
                            None => {
                                let _ = std::fs::remove_dir_all(&dir);
                            }
                        }
                    }
                    Err(e) => {
                        let _ = std::fs::remove_dir_all(&dir);
                        // (No report while the server stops and removes its folders.)
                        if state.stack.generation() == n && !state.stopped.load(Ordering::SeqCst) {
                            report_failure(&state, &e);
                        }
                    }
                }
                if state.tidy_if_stopped() {
                    return;
                }
            }
        })
        .context("starting the search-index thread")?;
    Ok(tx)
}
