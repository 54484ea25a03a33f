"""The Helm chart against the plain manifests: with its default values and the
release name "wine-api" it must deploy what k8s/ deploys. These tests read
values.yaml and the templates as text; `course lab test kubernetes` (or
`helm lint` and `helm template` on your machine) renders them for real."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import API_PORT, CHART, Obj

TEMPLATES = CHART / "templates"
VALUES_REFERENCE = re.compile(r"\.Values\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")


def template_texts() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(TEMPLATES.iterdir()) if p.is_file()}


def manifest_templates() -> dict[str, str]:
    return {name: text for name, text in template_texts().items() if name.endswith(".yaml")}


def lookup(values: Obj, dotted: str, where: str) -> Any:
    node: Any = values
    for key in dotted.split("."):
        assert isinstance(node, dict), f"{where}: .Values.{dotted} goes below a leaf"
        assert key in node, f"{where}: no .Values.{dotted} in values.yaml"
        node = node[key]
    return node


def test_chart_metadata(chart_metadata: Obj) -> None:
    assert chart_metadata["apiVersion"] == "v2"
    assert chart_metadata["name"] == CHART.name
    assert chart_metadata["type"] == "application"
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", chart_metadata["version"])


def test_the_default_image_is_the_one_the_manifests_run(
    chart_metadata: Obj, values: Obj, api_container: Obj
) -> None:
    repository, _, tag = api_container["image"].rpartition(":")
    assert values["image"]["repository"] == repository
    # An empty tag falls back to appVersion (see wine-api.image in _helpers.tpl).
    assert (values["image"]["tag"] or chart_metadata["appVersion"]) == tag
    assert values["image"]["pullPolicy"] == api_container["imagePullPolicy"]


def test_every_value_a_template_reads_exists(values: Obj) -> None:
    # A misspelt .Values path renders as nothing, silently.
    for name, text in template_texts().items():
        for dotted in VALUES_REFERENCE.findall(text):
            lookup(values, dotted, where=name)


def test_every_value_is_read_by_a_template(values: Obj) -> None:
    # A value no template reads is a setting that does nothing.
    used = {
        ref.split(".")[0]
        for text in template_texts().values()
        for ref in VALUES_REFERENCE.findall(text)
    }
    assert set(values) == used


def test_the_schema_describes_and_requires_every_value(values: Obj) -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert set(schema["properties"]) == set(values)
    assert set(schema["required"]) == set(values)
    assert schema["additionalProperties"] is False


def test_the_templates_make_the_same_kinds_as_the_manifests(manifests: dict[str, Obj]) -> None:
    kinds = set()
    for text in manifest_templates().values():
        kinds.update(re.findall(r"^kind: (\w+)$", text, re.MULTILINE))
    # The release's namespace is created by `helm --create-namespace` or by you.
    assert kinds == set(manifests) - {"Namespace"}


@pytest.mark.parametrize("name", sorted(manifest_templates()))
def test_every_object_is_named_by_the_release_in_its_namespace(name: str) -> None:
    text = manifest_templates()[name]
    assert '  name: {{ include "wine-api.fullname" . }}\n' in text
    assert "  namespace: {{ .Release.Namespace }}\n" in text
    assert '{{- include "wine-api.labels" . | nindent 4 }}' in text


def test_the_selector_labels_are_those_of_the_manifests(deployment: Obj) -> None:
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    block = re.search(
        r'define "wine-api.selectorLabels" -}}\n(.*?)\{\{- end }}', helpers, re.DOTALL
    )
    assert block
    keys = set(re.findall(r"^([a-z0-9./-]+):", block.group(1), re.MULTILINE))
    assert keys == set(deployment["spec"]["selector"]["matchLabels"])


def test_the_default_names_match_the_manifests(
    chart_metadata: Obj, manifests: dict[str, Obj]
) -> None:
    # Installed as release "wine-api", the chart's objects are named
    # "wine-api": the release name contains the chart name.
    names = {obj["metadata"]["name"] for kind, obj in manifests.items() if kind != "Namespace"}
    assert names == {chart_metadata["name"]}


def test_the_api_settings_match(values: Obj, configmap: Obj) -> None:
    assert values["config"] == configmap["data"]


def test_the_container_matches(values: Obj, deployment: Obj, api_container: Obj) -> None:
    pod = deployment["spec"]["template"]["spec"]
    assert values["containerPort"] == API_PORT == api_container["ports"][0]["containerPort"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert values[probe] == api_container[probe], probe
    assert values["resources"] == api_container["resources"]
    assert values["securityContext"] == api_container["securityContext"]
    assert values["podSecurityContext"] == pod["securityContext"]
    assert (
        values["preStopSleepSeconds"] == api_container["lifecycle"]["preStop"]["sleep"]["seconds"]
    )
    assert values["terminationGracePeriodSeconds"] == pod["terminationGracePeriodSeconds"]


def test_the_labels_match(values: Obj, deployment: Obj) -> None:
    labels = deployment["metadata"]["labels"]
    assert values["commonLabels"].items() <= labels.items()


def test_the_service_matches(values: Obj, service: Obj) -> None:
    (port,) = service["spec"]["ports"]
    assert values["service"] == {"type": service["spec"]["type"], "port": port["port"]}


def test_the_autoscaler_matches(values: Obj, hpa: Obj) -> None:
    spec = hpa["spec"]
    autoscaling = values["autoscaling"]
    assert autoscaling["enabled"] is True
    assert autoscaling["minReplicas"] == spec["minReplicas"]
    assert autoscaling["maxReplicas"] == spec["maxReplicas"]
    target = spec["metrics"][0]["resource"]["target"]["averageUtilization"]
    assert autoscaling["targetCPUUtilizationPercentage"] == target
    assert autoscaling["behavior"] == spec["behavior"]


def test_the_disruption_budget_matches(values: Obj, pdb: Obj) -> None:
    assert values["podDisruptionBudget"] == {
        "enabled": True,
        "maxUnavailable": pdb["spec"]["maxUnavailable"],
    }


def test_replicas_are_set_only_without_autoscaling() -> None:
    deployment = (TEMPLATES / "deployment.yaml").read_text()
    assert (
        "  {{- if not .Values.autoscaling.enabled }}\n"
        "  replicas: {{ .Values.replicaCount }}\n"
        "  {{- end }}\n"
    ) in deployment
    assert (TEMPLATES / "hpa.yaml").read_text().startswith("{{- if .Values.autoscaling.enabled }}")


def test_a_config_change_rolls_the_pods() -> None:
    deployment = (TEMPLATES / "deployment.yaml").read_text()
    checksum = re.search(
        r'checksum/config: \{\{ include \(print \$\.Template\.BasePath "(/[^"]+)"', deployment
    )
    assert checksum
    assert (TEMPLATES / checksum.group(1).lstrip("/")).is_file()


def test_the_notes_say_how_to_reach_the_api() -> None:
    notes = (TEMPLATES / "NOTES.txt").read_text()
    assert "port-forward service/{{ $name }} 8080:{{ .Values.service.port }}" in notes
    assert "http://127.0.0.1:8080/ready" in notes
