//! What a lab's file is, read off its name, its folder and a glance at its
//! content, so that a new lab is checked without registering anything.

use course_labs::conventions::is_dockerfile;

/// What a file is, for choosing its tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    Dockerfile,
    Compose,
    Workflow,
    Kubernetes,
    PromConfig,
    PromRules,
    PromTest,
    Alertmanager,
    Shell,
    Yaml,
}

pub(super) fn classify(rel: &str, text: &str) -> Option<Kind> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    let has_line = |prefix: &str| text.lines().any(|l| l.starts_with(prefix));
    if is_dockerfile(name) {
        return Some(Kind::Dockerfile);
    }
    if matches!(
        name,
        "compose.yaml" | "compose.yml" | "docker-compose.yaml" | "docker-compose.yml"
    ) || (name.starts_with("compose.") && yaml)
    {
        return Some(Kind::Compose);
    }
    if name.ends_with(".sh")
        || text.starts_with("#!/bin/sh")
        || text.starts_with("#!/bin/bash")
        || text.starts_with("#!/usr/bin/env bash")
    {
        return Some(Kind::Shell);
    }
    if !yaml {
        return None;
    }
    if rel.contains(".github/workflows/") {
        return Some(Kind::Workflow);
    }
    // Inside a Helm chart, templates are rendered and validated with the chart.
    if rel.split('/').any(|p| p == "templates") && text.contains("{{") {
        return None;
    }
    if has_line("rule_files:") && has_line("tests:") {
        return Some(Kind::PromTest);
    }
    if has_line("scrape_configs:") || (has_line("global:") && has_line("rule_files:")) {
        return Some(Kind::PromConfig);
    }
    if has_line("groups:")
        && (text.contains("expr:"))
        && (text.contains("alert:") || text.contains("record:"))
    {
        return Some(Kind::PromRules);
    }
    if has_line("route:") && has_line("receivers:") {
        return Some(Kind::Alertmanager);
    }
    // kind's cluster config has apiVersion/kind but is no Kubernetes object.
    if has_line("apiVersion:")
        && has_line("kind:")
        && name != "Chart.yaml"
        && !text.contains("kind.x-k8s.io")
    {
        return Some(Kind::Kubernetes);
    }
    Some(Kind::Yaml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_are_chosen_from_the_files() {
        assert_eq!(classify("Dockerfile", "FROM x"), Some(Kind::Dockerfile));
        assert_eq!(
            classify("compose.yaml", "services: {}"),
            Some(Kind::Compose)
        );
        assert_eq!(
            classify(".github/workflows/ci.yml", "on: push"),
            Some(Kind::Workflow)
        );
        assert_eq!(
            classify("k8s/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\n"),
            Some(Kind::Kubernetes)
        );
        assert_eq!(
            classify(
                "chart/templates/d.yaml",
                "apiVersion: v1\nkind: {{ .Values.k }}\n"
            ),
            None
        );
        assert_eq!(
            classify("chart/Chart.yaml", "apiVersion: v2\nname: x\n"),
            Some(Kind::Yaml)
        );
        assert_eq!(
            classify("prometheus.yml", "global:\nscrape_configs:\n"),
            Some(Kind::PromConfig)
        );
        assert_eq!(
            classify(
                "rules.yml",
                "groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: up == 0\n"
            ),
            Some(Kind::PromRules)
        );
        assert_eq!(
            classify("rules-test.yml", "rule_files:\n  - rules.yml\ntests:\n"),
            Some(Kind::PromTest)
        );
        assert_eq!(classify("run.sh", ""), Some(Kind::Shell));
        assert_eq!(
            classify("bin/tool", "#!/usr/bin/env bash\n"),
            Some(Kind::Shell)
        );
        assert_eq!(classify("values.yaml", "replicas: 2\n"), Some(Kind::Yaml));
        assert_eq!(classify("app.py", "print(1)"), None);
    }
}
