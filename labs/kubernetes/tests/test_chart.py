"""The Helm chart against the plain manifests: with its default values and the
release name "wine-api" it must deploy what k8s/ deploys. These tests read
values.yaml and the templates as text; `course lab test kubernetes` (or
`helm lint` and `helm template` on your machine) renders them for real."""

from __future__ import annotations

import json
import re
from typing import Any

import helm_python as helm
import pytest
import yaml
from conftest import API_PORT, CHART, Obj, admits, kube_floor

TEMPLATES = CHART / "templates"
VALUES_REFERENCE = re.compile(r"\.Values\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")


def template_texts() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(TEMPLATES.iterdir()) if p.is_file()}


def manifest_templates() -> dict[str, str]:
    return {name: text for name, text in template_texts().items() if name.endswith(".yaml")}


def render(values: Obj | None = None) -> dict[str, Obj]:
    """The chart rendered by Helm's own code, as release "wine-api" in
    namespace "wine": the objects by kind."""
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name="wine-api", namespace="wine")
    objects = {}
    for source, text in manifests.items():
        if source.endswith(".yaml"):
            for doc in yaml.safe_load_all(text):
                if doc:
                    objects[doc["kind"]] = doc
    return objects


def without_metadata(obj: Obj) -> Obj:
    """An object without its own and its pod template's metadata (labels and
    annotations, which Helm adds to)."""
    spec = dict(obj.get("spec", {}))
    if "template" in spec:
        spec["template"] = {k: v for k, v in spec["template"].items() if k != "metadata"}
    return {**{k: v for k, v in obj.items() if k != "metadata"}, "spec": spec}


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
    assert values["image"]["digest"] == ""
    assert values["image"]["pullPolicy"] == api_container["imagePullPolicy"]
    assert values["imagePullSecrets"] == []


# What each template feature needs of the API server, oldest version first
# that accepts it with the default feature gates.
FEATURE_FLOORS = {
    "apiVersion: autoscaling/v2": (1, 23, 0),
    "apiVersion: policy/v1": (1, 21, 0),
    # The PDB field: beta and on by default in 1.27.
    "unhealthyPodEvictionPolicy:": (1, 27, 0),
    # The preStop sleep action: beta and on by default in 1.30; older API
    # servers refuse the Deployment.
    "sleep:": (1, 30, 0),
}


def test_the_chart_refuses_clusters_that_cannot_run_its_templates(chart_metadata: Obj) -> None:
    used = [
        floor
        for feature, floor in FEATURE_FLOORS.items()
        if any(feature in text for text in manifest_templates().values())
    ]
    assert kube_floor(chart_metadata["kubeVersion"]) == max(used)


@pytest.mark.parametrize(
    ("version", "admitted"),
    [
        ("1.29.15", False),
        ("v1.30.0", True),
        ("v1.30.4-eks-1a2b3c4", True),
        ("1.37.0", True),
    ],
)
def test_kube_version_bounds(chart_metadata: Obj, version: str, admitted: bool) -> None:
    assert admits(chart_metadata["kubeVersion"], version) is admitted


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


def test_the_rollout_settings_match(values: Obj, deployment: Obj) -> None:
    spec = deployment["spec"]
    assert values["rollingUpdate"] == spec["strategy"]["rollingUpdate"]
    assert values["minReadySeconds"] == spec["minReadySeconds"]
    assert values["progressDeadlineSeconds"] == spec["progressDeadlineSeconds"]
    # Kubernetes refuses a progress deadline that is not above minReadySeconds.
    assert values["progressDeadlineSeconds"] > values["minReadySeconds"]


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


def test_the_default_render_is_the_plain_manifests(manifests: dict[str, Obj]) -> None:
    # One chart, one set of manifests: with its defaults the chart deploys,
    # field for field, what `kubectl apply -f k8s/` deploys.
    rendered = render()
    assert set(rendered) == set(manifests) - {"Namespace"}
    for kind, obj in rendered.items():
        plain = manifests[kind]
        assert without_metadata(obj) == without_metadata(plain), kind
        assert plain["metadata"]["labels"].items() <= obj["metadata"]["labels"].items(), kind
        assert (obj["metadata"]["name"], obj["metadata"]["namespace"]) == (
            plain["metadata"]["name"],
            plain["metadata"]["namespace"],
        )


def test_a_digest_wins_over_the_tag() -> None:
    digest = "sha256:" + "0" * 64
    rendered = render({"image": {"repository": "ghcr.io/you/wine-api", "digest": digest}})
    (container,) = rendered["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"ghcr.io/you/wine-api@{digest}"


def test_pull_secrets_reach_the_pod() -> None:
    rendered = render({"imagePullSecrets": [{"name": "ghcr-pull"}]})
    pod = rendered["Deployment"]["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "ghcr-pull"}]


def test_without_autoscaling_the_deployment_owns_the_replicas() -> None:
    rendered = render({"autoscaling": {"enabled": False}, "replicaCount": 3})
    assert "HorizontalPodAutoscaler" not in rendered
    assert rendered["Deployment"]["spec"]["replicas"] == 3


@pytest.mark.parametrize(
    "values",
    [
        {"image": {"digest": "sha256:abc"}},
        {"image": {"digest": "0" * 64}},
        {"image": {"tag": "latest"}},
        {"imagePullSecrets": ["ghcr-pull"]},
        {"rollingUpdate": {"maxSurge": "one"}},
        # Kubernetes before 1.33 refuses a preStop sleep of 0 seconds.
        {"preStopSleepSeconds": 0},
    ],
    ids=str,
)
def test_the_schema_refuses(values: Obj) -> None:
    with pytest.raises(helm.HelmValuesError):
        render(values)
