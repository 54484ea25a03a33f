//! The course-progress page of `{{#lab-progress}}`: every lab with its
//! steps, and a summary per module that names the outline's success
//! criteria each module's labs practise, read from the one place the book
//! states them (the course map's "Success criteria" section).

use std::collections::BTreeMap;

use course_labs::Lab;
use serde::Serialize;

use super::{Assets, embed_assets};
use crate::html::{as_markdown_block, escape};

#[derive(Serialize)]
struct ProgressLab<'a> {
    id: &'a str,
    title: &'a str,
    module: u8,
    href: String,
    steps: Vec<ProgressStep<'a>>,
}

#[derive(Serialize)]
struct ProgressStep<'a> {
    id: &'a str,
    title: &'a str,
    /// Only a step with a check can be earned: the sidecar records it when
    /// the check passes.
    check: bool,
}

/// One of the outline's success criteria and the labs that practise it,
/// as the course map lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Criterion {
    pub(crate) name: String,
    pub(crate) labs: Vec<String>,
}

/// One module's row of the summary.
#[derive(Serialize)]
struct ModuleSummary<'a> {
    module: u8,
    labs: Vec<&'a str>,
    criteria: Vec<&'a str>,
    /// The module's self-check pages and their number of quizzes, so the
    /// page can count the reader's right answers (quiz.js keeps them).
    quizzes: Vec<QuizPage<'a>>,
}

#[derive(Serialize)]
struct QuizPage<'a> {
    page: &'a str,
    count: usize,
}

/// The module of a page: the number its first folder starts with (`03-…`).
fn module_of(page: &str) -> Option<u8> {
    let folder = page.split('/').next()?;
    let digits: String = folder.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || !folder[digits.len()..].starts_with('-') {
        return None;
    }
    digits.parse().ok()
}

/// The heading of the course map's section that lists the criteria.
const CRITERIA_HEADING: &str = "## Success criteria";

/// The success criteria from the first chapter that has a
/// `## Success criteria` section: each bullet `- **Criterion**: …` with the
/// catalog's lab ids it names in backticks.
pub(crate) fn success_criteria<'t>(
    chapters: impl IntoIterator<Item = &'t str>,
    catalog: &course_labs::Catalog,
) -> Vec<Criterion> {
    for text in chapters {
        let Some(start) = text.lines().position(|l| l.trim_end() == CRITERIA_HEADING) else {
            continue;
        };
        let mut criteria = Vec::new();
        for line in text.lines().skip(start + 1) {
            if line.starts_with("## ") || line.starts_with("# ") {
                break;
            }
            let Some(rest) = line.strip_prefix("- **") else {
                continue;
            };
            let Some((name, body)) = rest.split_once("**") else {
                continue;
            };
            let mut labs: Vec<String> = Vec::new();
            for (i, part) in body.split('`').enumerate() {
                if i % 2 == 1 && catalog.get(part).is_some() && !labs.iter().any(|l| l == part) {
                    labs.push(part.to_owned());
                }
            }
            criteria.push(Criterion {
                name: name.to_owned(),
                labs,
            });
        }
        return criteria;
    }
    Vec::new()
}

/// The course-progress table: every lab, in module order, linked to the
/// chapter that embeds it. The widget fills in each lab's state.
pub(crate) fn render_progress(
    catalog: &course_labs::Catalog,
    criteria: &[Criterion],
    embedded_at: &BTreeMap<String, String>,
    quiz_pages: &BTreeMap<String, usize>,
    path_to_root: &str,
    assets: &Assets,
    sidecar_url: &str,
) -> String {
    let mut labs: Vec<&Lab> = catalog.labs.iter().collect();
    labs.sort_by(|a, b| (a.module, &a.id).cmp(&(b.module, &b.id)));
    let entries: Vec<ProgressLab<'_>> = labs
        .iter()
        .map(|lab| ProgressLab {
            id: &lab.id,
            title: &lab.title,
            module: lab.module,
            href: embedded_at
                .get(&lab.id)
                .map(|page| format!("{path_to_root}{page}#lab-{}", lab.id))
                .unwrap_or_default(),
            steps: lab
                .steps
                .iter()
                .map(|s| ProgressStep {
                    id: &s.id,
                    title: &s.title,
                    check: s.check.is_some(),
                })
                .collect(),
        })
        .collect();
    let json = serde_json::to_string(&entries).unwrap_or_else(|_| "[]".to_owned());
    let mut modules: Vec<ModuleSummary<'_>> = Vec::new();
    for lab in &labs {
        if modules.last().is_none_or(|m| m.module != lab.module) {
            modules.push(ModuleSummary {
                module: lab.module,
                labs: Vec::new(),
                criteria: Vec::new(),
                quizzes: quiz_pages
                    .iter()
                    .filter(|(page, _)| module_of(page) == Some(lab.module))
                    .map(|(page, count)| QuizPage {
                        page,
                        count: *count,
                    })
                    .collect(),
            });
        }
        if let Some(m) = modules.last_mut() {
            m.labs.push(&lab.id);
            for c in criteria.iter().filter(|c| c.labs.contains(&lab.id)) {
                if !m.criteria.contains(&c.name.as_str()) {
                    m.criteria.push(&c.name);
                }
            }
        }
    }
    let modules_json = serde_json::to_string(&modules).unwrap_or_else(|_| "[]".to_owned());
    // A plain list first, so the page says something without JavaScript.
    let mut list = String::from("<ul class=\"labs-progress-list\">");
    for (lab, entry) in labs.iter().zip(&entries) {
        list.push_str(&format!(
            "<li><a href=\"{}\">Module {:02}: {}</a> ({} steps)</li>",
            escape(&entry.href),
            lab.module,
            escape(&lab.title),
            lab.steps.len()
        ));
    }
    list.push_str("</ul>");
    if modules.iter().any(|m| !m.criteria.is_empty()) {
        list.push_str("<ul class=\"labs-progress-criteria\">");
        for m in &modules {
            list.push_str(&format!(
                "<li>Module {:02}: {}</li>",
                m.module,
                escape(&m.criteria.join("; "))
            ));
        }
        list.push_str("</ul>");
    }
    let html = format!(
        "{assets}\n<div class=\"labs-progress\" data-sidecar=\"{sidecar}\" data-labs=\"{labs}\" data-modules=\"{modules}\">{list}</div>",
        assets = embed_assets(assets, path_to_root),
        sidecar = escape(sidecar_url),
        labs = escape(&json),
        modules = escape(&modules_json),
    );
    as_markdown_block(&html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_belongs_to_the_module_its_folder_is_numbered() {
        assert_eq!(module_of("03-model-serving/troubleshooting"), Some(3));
        assert_eq!(module_of("00-introduction/troubleshooting"), Some(0));
        assert_eq!(module_of("appendix/troubleshooting-index"), None);
        assert_eq!(module_of("2024-notes"), None, "not a module number");
        assert_eq!(module_of("introduction"), None);
    }

    #[test]
    fn criteria_come_from_the_course_maps_section() {
        let tmp = tempfile::tempdir().expect("tempdir");
        for id in ["docker-basics", "ci-cd"] {
            let dir = tmp.path().join(id);
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(
                dir.join("lab.yaml"),
                format!("id: {id}\ntitle: T\nmodule: 1\nsummary: S.\nminutes: 5\nfiles:\n  - path: a.txt\nsteps:\n  - id: s\n    title: S\n    text: T.\n"),
            )
            .expect("write");
            std::fs::write(dir.join("a.txt"), "a\n").expect("write");
        }
        let (catalog, problems) = course_labs::load_catalog(tmp.path());
        assert!(problems.is_empty(), "{problems:?}");
        let map = "# Map\n\n- **Not here**: `ci-cd`\n\n## Success criteria\n\nIntro.\n\n- **Containerize ML applications with Docker**: [01](x.md) (`docker-basics`), then (`ci-cd`) and `uv sync` and `docker-basics`.\n- **Set up CI/CD pipelines for ML**: (`ci-cd`).\n\n## Next\n\n- **Later**: `ci-cd`\n";
        let got = success_criteria(["no criteria here", map], &catalog);
        assert_eq!(
            got,
            vec![
                Criterion {
                    name: "Containerize ML applications with Docker".into(),
                    labs: vec!["docker-basics".into(), "ci-cd".into()],
                },
                Criterion {
                    name: "Set up CI/CD pipelines for ML".into(),
                    labs: vec!["ci-cd".into()],
                },
            ]
        );
    }

    #[test]
    fn every_criterion_of_the_real_course_map_names_a_lab_of_the_course() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let (catalog, _) = course_labs::load_catalog(&root.join("labs"));
        let map = std::fs::read_to_string(root.join("book/src/00-introduction/course-map.md"))
            .expect("the course map");
        let criteria = success_criteria([map.as_str()], &catalog);
        assert_eq!(
            criteria.len(),
            7,
            "the outline has seven success criteria: {criteria:#?}"
        );
        for c in &criteria {
            assert!(!c.labs.is_empty(), "{} names no lab of the course", c.name);
        }
    }
}
