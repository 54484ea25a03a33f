//! `course check`: every static problem of the course, each with its place.
//!
//! - lab manifests (everything the lab model validates);
//! - directives: malformed, unknown labs (with the nearest id), labs embedded
//!   by no chapter or by more than one;
//! - transcripts: each `{{#lab-output LAB STEP}}` quotes a step that exists,
//!   whose transcript exists, parses and was recorded from the step's
//!   current `run`; no transcript is left of a step that is gone;
//! - links between chapters: the target file exists, and its `#anchor` too;
//! - pins: each version a lab fixes has its `# pin (checked DAY): why` comment;
//! - ports: two labs meant to run together (`runs_with`) must not bind the same port;
//! - known failures: each `{{#symptom …}}` parses, and its recorded failure
//!   matches its entry and no other of its module (the appendix's: of the appendix).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use course_labs::conventions::{
    did_you_mean, did_you_mean_anchor, heading_id, lab_anchor, resolve_contained, step_anchor,
    unique_heading_id,
};
use course_labs::{Catalog, Diagnostic, load_catalog};
use mdbook_driver::book::BookItem;
use mdbook_labs::{DirectiveKind, Stale, Validator, find_directives};
use mdbook_markdown::pulldown_cmark::{Event, Tag, TagEnd};
use mdbook_markdown::{MarkdownOptions, new_cmark_parser};

use crate::project::Project;

/// Runs every check and returns every problem (empty when the course is clean).
pub fn check(project: &Project) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let (catalog, lab_problems) = load_catalog(&project.labs);
    problems.extend(lab_problems);

    let md = match project.load_book() {
        Ok(md) => md,
        Err(e) => {
            let msg = e
                .chain()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": ");
            problems.push(Diagnostic::new(
                project.book.join("src/SUMMARY.md"),
                0,
                0,
                msg,
            ));
            return problems;
        }
    };
    let src = md.source_dir();

    // Chapters by their path relative to src, with their text.
    let mut chapters: BTreeMap<PathBuf, String> = BTreeMap::new();
    for item in md.iter() {
        if let BookItem::Chapter(ch) = item
            && let Some(p) = &ch.source_path
        {
            chapters.insert(p.clone(), ch.content.clone());
        }
    }

    // Directives (the preprocessor's own validator) and coverage.
    let mut validator = Validator::new(&catalog, &project.labs, &project.book, Stale::Error);
    let mut embeds: HashMap<String, Vec<String>> = HashMap::new();
    for (rel, text) in &chapters {
        let file = src.join(rel);
        let found = find_directives(text);
        problems.extend(validator.directives(&file, &found));
        for d in found {
            if let DirectiveKind::Lab(id) = d.kind
                && catalog.get(&id).is_some()
            {
                let place = format!("{}:{}", file.display(), d.line);
                embeds.entry(id).or_default().push(place);
            }
        }
    }
    for lab in &catalog.labs {
        match embeds.get(&lab.id).map(Vec::as_slice) {
            None | Some([]) => problems.push(
                Diagnostic::new(&lab.manifest_path, 0, 0, format!("lab `{}` is not embedded by any chapter", lab.id))
                    .with_help(format!("add {{{{#lab {}}}}} on a line of its own in the module's chapter", lab.id)),
            ),
            Some([_]) => {}
            Some(places) => problems.push(
                Diagnostic::new(&lab.manifest_path, 0, 0, format!("lab `{}` is embedded {} times: {}", lab.id, places.len(), places.join(", ")))
                    .with_help("embed each lab exactly once; link to it elsewhere with its chapter's path and #lab-ID"),
            ),
        }
    }

    problems.extend(orphaned_transcripts(project, &catalog));

    // Known failures: each symptom matches the failure it was written from,
    // and that failure no other entry of its module (or of the appendix).
    problems.extend(course_labs::troubleshoot::check_book(&project.root, &src));

    // Every pin of every lab carries its reason and the day it was checked.
    let today = course_labs::today_utc();
    for lab in &catalog.labs {
        problems.extend(course_labs::lab_pins(lab, &today).1);
    }

    // Links and anchors.
    let anchors: HashMap<PathBuf, HashSet<String>> = chapters
        .iter()
        .map(|(rel, text)| (rel.clone(), anchors_of(text, &catalog)))
        .collect();
    for (rel, text) in &chapters {
        problems.extend(check_links(&src, rel, text, &anchors));
    }

    // Ports of labs that run together.
    for lab in &catalog.labs {
        for (other_id, line) in lab.runs_with.iter().zip(&lab.runs_with_lines) {
            let Some(other) = catalog.get(other_id) else {
                let mut d = Diagnostic::new(
                    &lab.manifest_path,
                    *line,
                    0,
                    format!("runs_with names an unknown lab `{other_id}`"),
                );
                if let Some(help) = did_you_mean(other_id, catalog.ids()) {
                    d = d.with_help(help);
                }
                problems.push(d);
                continue;
            };
            for p in &lab.ports {
                if let Some(q) = other.ports.iter().find(|q| q.port == p.port) {
                    problems.push(
                        Diagnostic::new(&lab.manifest_path, p.line, 0, format!(
                            "port {} ({}) is also bound by lab `{}` ({}), which runs with this one",
                            p.port, p.service, other.id, q.service
                        ))
                        .with_help("give one of them another port (and change its commands and checks to match)"),
                    );
                }
            }
        }
    }
    problems
}

/// Transcripts (`book/transcripts/LAB/STEP.txt`) of steps that no longer
/// exist: left behind when a step was renamed or removed, they would be
/// quoted by nothing and recorded again by nothing.
fn orphaned_transcripts(project: &Project, catalog: &Catalog) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let dir = &project.transcripts;
    for lab_dir in sorted_entries(dir).into_iter().filter(|p| p.is_dir()) {
        let lab_id = lab_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A lab whose lab.yaml is broken is reported already.
        if catalog.get(&lab_id).is_none() && lab_dir_exists(&project.labs, &lab_id) {
            continue;
        }
        let steps = catalog
            .get(&lab_id)
            .map(|l| l.steps.as_slice())
            .unwrap_or_default();
        for file in sorted_entries(&lab_dir) {
            let Some(step) = file
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".txt"))
                .filter(|_| file.is_file())
            else {
                continue;
            };
            if steps.iter().any(|s| s.id == step) {
                continue;
            }
            let mut d = Diagnostic::new(&file, 1, 0, format!("no step `{step}` in lab `{lab_id}`"));
            d = if catalog.get(&lab_id).is_none() {
                d.with_help(format!("there is no lab `{lab_id}`; remove the transcript"))
            } else {
                d.with_help(format!("remove the transcript, or record the renamed step with `course lab follow {lab_id} --record`"))
            };
            problems.push(d);
        }
    }
    problems
}

/// The entries of `dir`, sorted (none if it cannot be read).
fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

fn lab_dir_exists(labs: &Path, id: &str) -> bool {
    course_labs::is_valid_id(id) && labs.join(id).join(course_labs::LAB_FILE).is_file()
}

/// The heading ids mdBook gives a chapter, plus explicit `{#id}`s, `id="…"`
/// in raw HTML, and the ids of lab embeds.
fn anchors_of(text: &str, catalog: &course_labs::Catalog) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut used = HashSet::new();
    let mut heading: Option<(Option<String>, String)> = None;
    for event in new_cmark_parser(text, &MarkdownOptions::default()) {
        match event {
            Event::Start(Tag::Heading { id, .. }) => {
                heading = Some((id.map(|i| i.to_string()), String::new()))
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, buf)) = heading.as_mut() {
                    buf.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((explicit, buf)) = heading.take() {
                    let id =
                        explicit.unwrap_or_else(|| unique_heading_id(heading_id(&buf), &mut used));
                    ids.insert(id);
                }
            }
            Event::Html(h) | Event::InlineHtml(h) => {
                let mut rest: &str = &h;
                while let Some(i) = rest.find("id=\"") {
                    rest = &rest[i + 4..];
                    if let Some(end) = rest.find('"') {
                        ids.insert(rest[..end].to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    for d in find_directives(text) {
        if let DirectiveKind::Lab(id) = d.kind {
            ids.insert(lab_anchor(&id));
            if let Some(lab) = catalog.get(&id) {
                ids.extend(lab.steps.iter().map(|s| step_anchor(&id, &s.id)));
            }
        }
    }
    ids
}

fn check_links(
    src: &Path,
    rel: &Path,
    text: &str,
    anchors: &HashMap<PathBuf, HashSet<String>>,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let file = src.join(rel);
    let dir = rel.parent().unwrap_or(Path::new(""));
    for (event, range) in new_cmark_parser(text, &MarkdownOptions::default()).into_offset_iter() {
        let url = match &event {
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => dest_url.to_string(),
            _ => continue,
        };
        if url.is_empty()
            || url.contains("://")
            || url.starts_with("mailto:")
            || url.starts_with('/')
        {
            continue;
        }
        let line = text[..range.start].matches('\n').count() as u64 + 1;
        let (path_part, anchor) = match url.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (url.as_str(), None),
        };
        let path_part = path_part.split('?').next().unwrap_or("");
        let target_rel = if path_part.is_empty() {
            rel.to_path_buf()
        } else {
            let Some(t) = resolve_contained(&dir.join(path_part)) else {
                problems.push(Diagnostic::new(
                    &file,
                    line,
                    0,
                    format!("the link `{url}` leaves the book's src folder"),
                ));
                continue;
            };
            // Links to a chapter may use its .html name.
            if t.extension().is_some_and(|e| e == "html")
                && anchors.contains_key(&t.with_extension("md"))
            {
                t.with_extension("md")
            } else {
                t
            }
        };
        if !path_part.is_empty()
            && !src.join(&target_rel).exists()
            && !anchors.contains_key(&target_rel)
        {
            problems.push(
                Diagnostic::new(
                    &file,
                    line,
                    0,
                    format!(
                        "broken link `{url}`: {} does not exist",
                        src.join(&target_rel).display()
                    ),
                )
                .with_help("link to a chapter by its .md path relative to this chapter"),
            );
            continue;
        }
        if let Some(anchor) = anchor.filter(|a| !a.is_empty())
            && let Some(ids) = anchors.get(&target_rel)
            && !ids.contains(anchor)
        {
            let mut d = Diagnostic::new(
                &file,
                line,
                0,
                format!(
                    "broken link `{url}`: no heading or element with id `{anchor}` in {}",
                    target_rel.display()
                ),
            );
            if let Some(help) = did_you_mean_anchor(anchor, ids.iter().map(String::as_str)) {
                d = d.with_help(help);
            }
            problems.push(d);
        }
    }
    problems
}
