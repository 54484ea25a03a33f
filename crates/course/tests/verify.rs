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
