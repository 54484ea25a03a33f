//! The site `course serve` serves: a whole site with layers of changed
//! pages over it, and the generations that order the builds writing them.
//!
//! Every rebuild takes the next generation. A rebuild of a few pages adds a
//! layer (a file is taken from the last folder that has it); a whole build
//! replaces the stack. The full build behind a rebuild replaces it only if
//! no rebuild started since: the check and the switch hold one lock, the
//! same a rebuild reads what it builds on under.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use super::render::Rendered;

/// The folders served and what they hold.
#[derive(Default)]
struct Site {
    layers: Vec<PathBuf>,
    rendered: Option<Rendered>,
}

/// The stack of site folders served, with its generations.
#[derive(Default)]
pub(super) struct Stack {
    site: RwLock<Site>,
    /// The number of rebuilds started so far.
    generation: AtomicU64,
    /// Generation whose site was indexed for search last (0: the first build).
    indexed: AtomicU64,
}

impl Stack {
    /// A stack of one whole site, the first build's (generation 0).
    pub(super) fn new(site: PathBuf, rendered: Rendered) -> Stack {
        Stack {
            site: RwLock::new(Site {
                layers: vec![site],
                rendered: Some(rendered),
            }),
            ..Stack::default()
        }
    }

    /// The folders served now, the whole site first.
    pub(super) fn layers(&self) -> Vec<PathBuf> {
        self.site
            .read()
            .map(|s| s.layers.clone())
            .unwrap_or_default()
    }

    /// The file served for `rel` (relative to the site root), if any.
    pub(super) fn resolve(&self, rel: &Path) -> Option<PathBuf> {
        find_in(&self.layers(), rel)
    }

    /// What a rebuild builds on: the state of the pages served and the
    /// folders served, read together.
    pub(super) fn base(&self) -> (Option<Rendered>, Vec<PathBuf>) {
        match self.site.read() {
            Ok(site) => (site.rendered.clone(), site.layers.clone()),
            Err(_) => (None, Vec::new()),
        }
    }

    /// The number of rebuilds started so far.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The generation of the newest site whose search index is complete.
    pub(super) fn indexed(&self) -> u64 {
        self.indexed.load(Ordering::SeqCst)
    }

    /// Starts a rebuild: returns its generation.
    pub(super) fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Serves `dir`, the changed pages of generation `rendered`, over the site.
    pub(super) fn push_layer(&self, dir: PathBuf, rendered: Rendered) {
        if let Ok(mut site) = self.site.write() {
            site.layers.push(dir);
            site.rendered = Some(rendered);
        }
    }

    /// Serves the whole site `dir` alone; returns the folders served before.
    pub(super) fn replace(&self, dir: PathBuf, rendered: Rendered) -> Vec<PathBuf> {
        self.site
            .write()
            .map(|mut site| {
                site.rendered = Some(rendered);
                std::mem::replace(&mut site.layers, vec![dir])
            })
            .unwrap_or_default()
    }

    /// Serves the whole, indexed site `dir` built for generation `n`, if no
    /// rebuild started since; returns the folders served before, or None
    /// (then `dir` is not served).
    pub(super) fn replace_if_current(
        &self,
        n: u64,
        dir: PathBuf,
        rendered: Rendered,
    ) -> Option<Vec<PathBuf>> {
        let old = match self.site.write() {
            Ok(mut site) if self.generation() == n => {
                site.rendered = Some(rendered);
                Some(std::mem::replace(&mut site.layers, vec![dir]))
            }
            _ => None,
        };
        if old.is_some() {
            self.indexed.store(n, Ordering::SeqCst);
        }
        old
    }

    /// Generation `n` served nothing new: if the site was indexed up to the
    /// generation before, it still is (true); else a full build is pending
    /// and `n` takes it over (false).
    pub(super) fn carry_index(&self, n: u64) -> bool {
        self.indexed
            .compare_exchange(n - 1, n, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }
}

/// `rel` in the last of `layers` that has it as a file.
pub(super) fn find_in(layers: &[PathBuf], rel: &Path) -> Option<PathBuf> {
    layers
        .iter()
        .rev()
        .map(|layer| layer.join(rel))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three site folders: `whole` has a.html and b.html, `layer` a newer
    /// a.html, `full` a whole site again.
    fn folders() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let [whole, layer, full] = ["site-0", "site-1", "site-1-full"].map(|d| tmp.path().join(d));
        for (dir, files) in [
            (&whole, &["a.html", "b.html"][..]),
            (&layer, &["a.html"][..]),
            (&full, &["a.html", "b.html"][..]),
        ] {
            std::fs::create_dir_all(dir).expect("mkdir");
            for f in files {
                std::fs::write(dir.join(f), f).expect("write");
            }
        }
        (tmp, whole, layer, full)
    }

    #[test]
    fn a_layer_shadows_the_site_and_leaves_the_rest_visible() {
        let (_tmp, whole, layer, _) = folders();
        let stack = Stack::new(whole.clone(), Rendered::default());
        assert_eq!(
            stack.resolve(Path::new("a.html")),
            Some(whole.join("a.html"))
        );
        stack.push_layer(layer.clone(), Rendered::default());
        assert_eq!(stack.layers(), vec![whole.clone(), layer.clone()]);
        assert_eq!(
            stack.resolve(Path::new("a.html")),
            Some(layer.join("a.html"))
        );
        assert_eq!(
            stack.resolve(Path::new("b.html")),
            Some(whole.join("b.html"))
        );
        assert_eq!(stack.resolve(Path::new("c.html")), None);
    }

    #[test]
    fn a_whole_build_replaces_every_layer() {
        let (_tmp, whole, layer, full) = folders();
        let stack = Stack::new(whole.clone(), Rendered::default());
        stack.push_layer(layer.clone(), Rendered::default());
        let old = stack.replace(full.clone(), Rendered::default());
        assert_eq!(old, vec![whole, layer]);
        assert_eq!(stack.layers(), vec![full.clone()]);
        assert_eq!(
            stack.resolve(Path::new("a.html")),
            Some(full.join("a.html"))
        );
    }

    #[test]
    fn generations_advance_and_the_index_follows_the_newest_full_build() {
        let (_tmp, whole, layer, full) = folders();
        let stack = Stack::new(whole, Rendered::default());
        assert_eq!((stack.generation(), stack.indexed()), (0, 0));
        assert_eq!(stack.next_generation(), 1);
        stack.push_layer(layer, Rendered::default());
        assert_eq!((stack.generation(), stack.indexed()), (1, 0));
        assert!(
            stack
                .replace_if_current(1, full.clone(), Rendered::default())
                .is_some()
        );
        assert_eq!((stack.generation(), stack.indexed()), (1, 1));
        assert_eq!(stack.layers(), vec![full]);
        // A rebuild that served nothing new keeps a complete index complete.
        assert_eq!(stack.next_generation(), 2);
        assert!(stack.carry_index(2));
        assert_eq!(stack.indexed(), 2);
    }

    #[test]
    fn a_full_build_overtaken_by_a_rebuild_is_not_served() {
        let (_tmp, whole, layer, full) = folders();
        let stack = Stack::new(whole.clone(), Rendered::default());
        let first = stack.next_generation();
        // A second rebuild starts while the full build of the first runs.
        let second = stack.next_generation();
        stack.push_layer(layer.clone(), Rendered::default());
        assert!(
            stack
                .replace_if_current(first, full, Rendered::default())
                .is_none()
        );
        assert_eq!(stack.layers(), vec![whole, layer]);
        assert_eq!(stack.indexed(), 0);
        // The pending full build is the second's: the index is not complete.
        assert!(!stack.carry_index(second + 1));
    }

    #[test]
    fn reads_take_layers_and_state_together() {
        let (_tmp, whole, layer, _) = folders();
        let stack = std::sync::Arc::new(Stack::new(whole.clone(), Rendered::default()));
        let writer = {
            let stack = stack.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    stack.push_layer(layer.clone(), Rendered::default());
                    stack.replace(whole.clone(), Rendered::default());
                }
            })
        };
        for _ in 0..200 {
            let (rendered, layers) = stack.base();
            assert!(rendered.is_some());
            assert!(matches!(layers.len(), 1 | 2), "{layers:?}");
        }
        writer.join().expect("writer");
    }
}
