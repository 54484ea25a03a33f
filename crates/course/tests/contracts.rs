//! The course is one course, not ten: what the modules share stays shared.
//!
//! - Files a later lab reuses are byte for byte their source
//!   (`verify/copies.toml`): one chart, one request contract, one drift
//!   binning, one set of live-service helpers.
//! - Every module's self-check names, for each question, the outline's
//!   success criterion or learning objective it tests, as the course map
//!   lists them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use course_labs::conventions::is_ignored_dir;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("root")
}

#[derive(serde::Deserialize)]
struct Copies {
    copy: Vec<Copy>,
}

#[derive(serde::Deserialize)]
struct Copy {
    source: String,
    copies: Vec<String>,
    why: String,
}

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name();
            if name.to_str().is_some_and(is_ignored_dir) {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(p.strip_prefix(base).expect("under base").to_path_buf());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// The differences between `source` and `copy` (files or folders), in words.
fn differences(root: &Path, source: &str, copy: &str) -> Vec<String> {
    let (s, c) = (root.join(source), root.join(copy));
    let mut out = Vec::new();
    if s.is_dir() {
        if !c.is_dir() {
            return vec![format!("{copy} is not a folder, as {source} is")];
        }
        let (sf, cf) = (files_under(&s), files_under(&c));
        for missing in sf.difference(&cf) {
            out.push(format!("{copy}/{} is missing", missing.display()));
        }
        for extra in cf.difference(&sf) {
            out.push(format!("{copy}/{} is not in {source}", extra.display()));
        }
        for both in sf.intersection(&cf) {
            if std::fs::read(s.join(both)).ok() != std::fs::read(c.join(both)).ok() {
                out.push(format!("{copy}/{} differs", both.display()));
            }
        }
    } else {
        match (std::fs::read(&s), std::fs::read(&c)) {
            (Err(e), _) => out.push(format!("{source}: {e}")),
            (_, Err(e)) => out.push(format!("{copy}: {e}")),
            (Ok(a), Ok(b)) if a != b => out.push(format!("{copy} differs")),
            _ => {}
        }
    }
    out
}

#[test]
fn every_listed_copy_is_its_source_byte_for_byte() {
    let root = root();
    let path = root.join("verify/copies.toml");
    let text = std::fs::read_to_string(&path).expect("verify/copies.toml");
    let copies: Copies = toml::from_str(&text).expect("verify/copies.toml parses");
    assert!(copies.copy.len() >= 5, "only {} entries", copies.copy.len());
    let mut problems = Vec::new();
    for entry in &copies.copy {
        assert!(
            !entry.why.trim().is_empty(),
            "{}: say why it is a copy",
            entry.source
        );
        assert!(!entry.copies.is_empty(), "{}: no copies", entry.source);
        for copy in &entry.copies {
            for d in differences(&root, &entry.source, copy) {
                problems.push(format!(
                    "{d} (a copy of {}: {}); copy it again (cp -R {} {}) or, if the lab must differ, stop listing it and pin the change with a test of its own",
                    entry.source, entry.why, entry.source, copy
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn a_drifted_copy_is_reported_with_its_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for side in ["a", "b"] {
        std::fs::create_dir_all(root.join(side).join("templates")).expect("mkdir");
        std::fs::write(
            root.join(side).join("templates/deployment.yaml"),
            "startupProbe:\n  httpGet: {path: /ready}\n",
        )
        .expect("write");
    }
    assert!(differences(root, "a", "b").is_empty());
    std::fs::write(
        root.join("b/templates/deployment.yaml"),
        "livenessProbe:\n  initialDelaySeconds: 10\n",
    )
    .expect("write");
    std::fs::write(root.join("b/extra.yaml"), "").expect("write");
    assert_eq!(
        differences(root, "a", "b"),
        [
            "b/extra.yaml is not in a",
            "b/templates/deployment.yaml differs"
        ]
    );
}

/// The bold texts of the bullets of section `heading` of a Markdown page.
fn bold_bullets(text: &str, heading: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("## ") {
            inside = line.trim() == heading;
            continue;
        }
        if inside
            && let Some(rest) = line.strip_prefix("- **")
            && let Some((bold, _)) = rest.split_once("**")
        {
            out.push(bold.trim().to_lowercase());
        }
    }
    out
}

/// The labels of a self-check's questions (`**N. Label.** …`), with their
/// numbers, and every problem with the section's form.
fn self_check(text: &str) -> (Vec<(u32, String)>, Vec<String>) {
    let mut labels = Vec::new();
    let mut problems = Vec::new();
    let Some(start) = text
        .find("\n## Self-check")
        .or_else(|| text.find("\n## Final self-check"))
    else {
        return (labels, vec!["has no `## Self-check` section".to_owned()]);
    };
    let section = &text[start + 1..];
    let section = match section[3..].find("\n## ") {
        Some(end) => &section[..end + 3],
        None => section,
    };
    let mut answers = 0;
    for (i, line) in section.lines().enumerate() {
        let line = line.trim_start();
        if line.starts_with("<details><summary>") {
            if line == "<details><summary>Answer</summary>" {
                answers += 1;
            } else {
                problems.push(format!(
                    "line {} of the section: a question in a <summary>; write it as `**N. Criterion.** question` and the answer under <details><summary>Answer</summary>",
                    i + 1
                ));
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("**") else {
            continue;
        };
        let Some((number, rest)) = rest.split_once('.') else {
            continue;
        };
        let Ok(n) = number.trim().parse::<u32>() else {
            continue;
        };
        match rest.split_once(".**") {
            Some((label, _)) if !label.trim().is_empty() => {
                labels.push((n, label.trim().to_lowercase()))
            }
            _ => problems.push(format!(
                "question {n} names no criterion: write `**{n}. <success criterion or objective>.** question`"
            )),
        }
    }
    let numbers: Vec<u32> = labels.iter().map(|(n, _)| *n).collect();
    let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
    if numbers != expected {
        problems.push(format!(
            "questions are numbered {numbers:?}, not 1 to {}",
            numbers.len()
        ));
    }
    if answers != labels.len() {
        problems.push(format!(
            "{} questions but {answers} answers (<details><summary>Answer</summary>)",
            labels.len()
        ));
    }
    (labels, problems)
}

#[test]
fn every_self_check_question_names_the_criterion_it_tests() {
    let root = root();
    let src = root.join("book/src");
    let map =
        std::fs::read_to_string(src.join("00-introduction/course-map.md")).expect("course-map.md");
    let criteria = bold_bullets(&map, "## Success criteria");
    let objectives = bold_bullets(&map, "## Learning objectives");
    assert_eq!(
        criteria.len(),
        7,
        "course-map.md lists the outline's seven success criteria under `## Success criteria` as `- **criterion**: …`; found {criteria:?}"
    );
    assert!(
        objectives.len() >= 20,
        "course-map.md lists the outline's learning objectives under `## Learning objectives` as `- **objective**: …`; found {objectives:?}"
    );
    let mut modules: Vec<PathBuf> = std::fs::read_dir(&src)
        .expect("book/src")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.len() > 3 && n.as_bytes()[..2].iter().all(u8::is_ascii_digit))
        })
        .collect();
    modules.sort();
    assert_eq!(modules.len(), 10, "{modules:?}");
    let mut problems = Vec::new();
    for module in &modules {
        let page = module.join("troubleshooting.md");
        let rel = page
            .strip_prefix(&root)
            .unwrap_or(&page)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&page).unwrap_or_default();
        let (labels, form) = self_check(&text);
        problems.extend(form.into_iter().map(|p| format!("{rel}: {p}")));
        for (n, label) in &labels {
            if !criteria.contains(label) && !objectives.contains(label) {
                problems.push(format!(
                    "{rel}: question {n} is labelled `{label}`, which is neither a success criterion nor a learning objective of the course map"
                ));
            }
        }
        if !labels.is_empty() && !labels.iter().any(|(_, l)| criteria.contains(l)) {
            problems.push(format!(
                "{rel}: no question tests one of the outline's success criteria"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn a_self_check_without_labels_is_refused() {
    let text = "# T\n\n## Self-check\n\n**1.** Why?\n\n<details><summary>Answer</summary>\n\nBecause.\n\n</details>\n\n**2. Set up CI/CD pipelines for ML.** How?\n\n<details><summary>Answer</summary>\n\nSo.\n\n</details>\n\n## Next\n**9. Not counted.**\n";
    let (labels, problems) = self_check(text);
    assert_eq!(labels, [(2, "set up ci/cd pipelines for ml".to_owned())]);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].contains("question 1 names no criterion"));
}
