//! Each checking tool bites: run over `verify/fixtures/bad/`, every tool
//! rejects its known-bad file with its own message; over
//! `verify/fixtures/good/`, everything passes.
//!
//! The tools come from `scripts/install-tools.sh`. Outside CI a missing tool
//! skips this test with a message; with `CI=true` it fails.

use std::path::{Path, PathBuf};

use course::verify::{Outcome, Tools, Verdict, all_files, verify};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("root")
}

fn run(folder: &str) -> Option<Vec<Outcome>> {
    let root = root();
    let dir = root.join("verify/fixtures").join(folder);
    let tools = Tools::new(&root);
    let outcomes = verify(folder, &dir, &all_files(&dir), &tools);
    let skipped: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| matches!(o.verdict, Verdict::Skip(_)))
        .collect();
    if !skipped.is_empty() {
        assert!(!tools.ci, "CI=true never skips");
        eprintln!(
            "skipped: tools missing ({}); run scripts/install-tools.sh",
            skipped
                .iter()
                .map(|o| o.tool)
                .collect::<Vec<_>>()
                .join(", ")
        );
        return None;
    }
    Some(outcomes)
}

fn verdict<'a>(outcomes: &'a [Outcome], tool: &str, target: &str) -> &'a Verdict {
    &outcomes
        .iter()
        .find(|o| o.tool == tool && o.target == target)
        .unwrap_or_else(|| panic!("no {tool} check of {target}: {outcomes:#?}"))
        .verdict
}

#[test]
fn every_tool_catches_its_bad_file_with_its_own_message() {
    let Some(outcomes) = run("bad") else { return };
    let expect = [
        ("hadolint", "Dockerfile", "DL3008"),
        ("compose config", "compose.yaml", "services.api.enviroment"),
        (
            "kubernetes-validate",
            "k8s/deployment.yaml",
            "spec.replicas: '2' is not of type 'integer'",
        ),
        ("helm lint", "chart/", "function \"toYml\" not defined"),
        ("helm template", "chart/", "function \"toYml\" not defined"),
        (
            "workflow schema",
            ".github/workflows/bad.yml",
            "is not valid under any of the given schemas",
        ),
        (
            "actionlint",
            ".github/workflows/bad.yml",
            "unknown Webhook event \"pushh\"",
        ),
        (
            "promtool rules",
            "prometheus/rules.yml",
            "could not parse expression",
        ),
        (
            "promtool test",
            "prometheus/rules-test.yml",
            "alertname: HighErrorRate, time: 3m",
        ),
        (
            "amtool",
            "alertmanager/alertmanager.yml",
            "undefined receiver \"on-call\" used in route",
        ),
        ("shellcheck", "scripts/bad.sh", "SC2086"),
        ("yamllint", "bad.yaml", "duplication of key"),
    ];
    for (tool, target, message) in expect {
        match verdict(&outcomes, tool, target) {
            Verdict::Fail(out) => assert!(
                out.contains(message),
                "{tool} on {target}: expected {message:?} in\n{out}"
            ),
            other => panic!("{tool} must reject {target}, got {other:?}"),
        }
    }
    // The file and line are in the message where the tool gives them.
    for (tool, target, place) in [
        ("hadolint", "Dockerfile", "Dockerfile:4"),
        ("actionlint", ".github/workflows/bad.yml", "bad.yml:4:3"),
        ("shellcheck", "scripts/bad.sh", "line 6"),
    ] {
        let Verdict::Fail(out) = verdict(&outcomes, tool, target) else {
            unreachable!()
        };
        assert!(out.contains(place), "{tool}: no {place} in\n{out}");
    }
}

#[test]
fn every_tool_passes_a_good_file() {
    let Some(outcomes) = run("good") else { return };
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| o.verdict != Verdict::Pass)
        .map(ToString::to_string)
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let tools: std::collections::BTreeSet<&str> = outcomes.iter().map(|o| o.tool).collect();
    for tool in [
        "hadolint",
        "compose config",
        "kubernetes-validate",
        "helm lint",
        "helm template",
        "workflow schema",
        "actionlint",
        "promtool rules",
        "promtool test",
        "amtool",
        "shellcheck",
        "yamllint",
    ] {
        assert!(
            tools.contains(tool),
            "{tool} never ran over the good fixtures: {tools:?}"
        );
    }
}

#[test]
fn the_summary_line_counts_what_ran() {
    let Some(outcomes) = run("bad") else { return };
    let (passed, failed, skipped, line) = course::verify::summary(&outcomes);
    assert_eq!(skipped, 0);
    assert_eq!(failed, 12, "{line}");
    assert_eq!(line, format!("{passed} passed, 12 failed"));
}

/// Labs carry their own copy of the live-service helpers (learners copy
/// labs, so a lab cannot import from verify/); every copy must be the file
/// that verify/live tests.
#[test]
fn lab_copies_of_the_live_helpers_match_the_tested_source() {
    let root = root();
    let source = std::fs::read(root.join("verify/live/live.py")).expect("verify/live/live.py");
    let mut copies = 0;
    for lab in std::fs::read_dir(root.join("labs"))
        .expect("labs")
        .flatten()
    {
        let copy = lab.path().join("tests/live.py");
        if copy.is_file() {
            copies += 1;
            let bytes = std::fs::read(&copy).expect("read");
            assert!(
                bytes == source,
                "{} differs from verify/live/live.py; copy it again: cp verify/live/live.py {}",
                copy.display(),
                copy.display()
            );
        }
    }
    assert!(copies > 0, "no lab uses the live helpers");
}

/// Asserts that `copy` is byte for byte module 03's file of the same name.
fn assert_copy_of_module_03(root: &Path, copy: &Path) {
    let source = root
        .join("labs/model-serving/src/wine_api")
        .join(copy.file_name().expect("name"));
    let ours = std::fs::read(copy).unwrap_or_else(|e| panic!("{}: {e}", copy.display()));
    let theirs = std::fs::read(&source).unwrap_or_default();
    assert!(
        ours == theirs,
        "{} differs from module 03's {}; copy it again (cp {} {}), or stop listing it as a copy if the lab now needs its own",
        copy.display(),
        source.display(),
        source.display(),
        copy.display()
    );
}

/// The Streamlit lab tests against the real wine API, so it carries a copy
/// of module 03's package in `tests/wine_api/`; each copied file must be the
/// one module 03 tests, or the app would be tested against another API.
#[test]
fn the_streamlit_labs_copy_of_the_api_matches_module_03() {
    let root = root();
    let copy = root.join("labs/streamlit-app/tests/wine_api");
    let mut files = 0;
    for entry in std::fs::read_dir(&copy)
        .expect("labs/streamlit-app/tests/wine_api")
        .flatten()
    {
        if entry.file_name().to_string_lossy().ends_with(".py") {
            files += 1;
            assert_copy_of_module_03(&root, &entry.path());
        }
    }
    assert!(files >= 4, "only {files} files in {}", copy.display());
}

/// Labs that adapt the API (metrics, a gate) keep module 03's request and
/// response models and training unchanged: those files are copies, and must
/// stay the files module 03 tests.
#[test]
fn unchanged_copies_of_module_03_files_stay_unchanged() {
    let root = root();
    for copy in [
        "labs/ci-cd/src/wine_api/schemas.py",
        "labs/monitoring/src/wine_api/schemas.py",
        "labs/monitoring/src/wine_api/train.py",
    ] {
        assert_copy_of_module_03(&root, &root.join(copy));
    }
}

/// The offline Helm helper is one file in two labs (each lab is copied on
/// its own, so each carries it): the copies stay the same file.
#[test]
fn the_labs_copies_of_the_chart_helper_stay_the_same() {
    let root = root();
    let kubernetes = root.join("labs/kubernetes/tools/chart.py");
    let ci_cd = root.join("labs/ci-cd/tools/chart.py");
    let a = std::fs::read(&kubernetes).unwrap_or_else(|e| panic!("{}: {e}", kubernetes.display()));
    let b = std::fs::read(&ci_cd).unwrap_or_else(|e| panic!("{}: {e}", ci_cd.display()));
    assert!(
        a == b,
        "{} differs from {}: change both, they are one helper",
        ci_cd.display(),
        kubernetes.display()
    );
}
