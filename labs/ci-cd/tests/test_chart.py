"""The chart production gets: module 05's chart, unchanged, with deploy/production.yaml.

chart/wine-api/ is a byte-for-byte copy of module 05's chart (the course's
own tests compare the two). These tests render it the way deploy.yml does,
through Helm's own Go code (helm-python-sdk), and check what this module
relies on: the image by digest, never fewer than three pods, a rolling update
that keeps them all serving, and a pod that fits the image the Dockerfile
builds (port, user, model path, the probes' endpoints).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

LAB = Path(__file__).parent.parent
CHART = LAB / "chart" / "wine-api"
PRODUCTION = LAB / "deploy" / "production.yaml"
DIGEST = "sha256:" + "ab" * 32
REPOSITORY = "ghcr.io/you/wine"


def render(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The rendered objects by kind, for release wine-api in namespace wine."""
    with helm.Chart.load(str(CHART)) as chart:
        manifests = chart.render(values, name="wine-api", namespace="wine")
    objects = {}
    for source, body in manifests.items():
        if source.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(body):
            if document:
                objects[document["kind"]] = document
    return objects


def production_values() -> dict[str, Any]:
    """deploy/production.yaml plus the two values deploy.yml sets."""
    values = yaml.safe_load(PRODUCTION.read_text(encoding="utf-8"))
    values["image"] |= {"repository": REPOSITORY, "digest": DIGEST}
    return values


@pytest.fixture(scope="module")
def production() -> dict[str, dict[str, Any]]:
    return render(production_values())


@pytest.fixture(scope="module")
def container(production: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (api,) = production["Deployment"]["spec"]["template"]["spec"]["containers"]
    return api


def dockerfile_instruction(name: str) -> str:
    text = (LAB / "Dockerfile").read_text(encoding="utf-8")
    return " ".join(re.findall(rf"^{name} (.+)$", text, flags=re.MULTILINE))


def test_the_pods_run_the_image_by_digest(container: dict[str, Any]) -> None:
    # Not a tag: what was tested, attested and approved is what runs.
    assert container["image"] == f"{REPOSITORY}@{DIGEST}"


def test_production_never_has_fewer_than_three_pods(
    production: dict[str, dict[str, Any]],
) -> None:
    assert production["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 3
    # The autoscaler owns the count: a `replicas:` field would fight it on every upgrade.
    assert "replicas" not in production["Deployment"]["spec"]
    assert production["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1


def test_the_rollout_adds_one_pod_and_removes_none_before_it_is_ready(
    production: dict[str, dict[str, Any]],
) -> None:
    spec = production["Deployment"]["spec"]
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    assert spec["minReadySeconds"] == 10
    assert spec["progressDeadlineSeconds"] == 300


def test_the_probes_ask_the_endpoints_the_api_serves(container: dict[str, Any]) -> None:
    # /ready answers 200 only once the model is loaded: the rollout waits for it.
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"


def test_the_pod_fits_the_image_the_dockerfile_builds(
    production: dict[str, dict[str, Any]], container: dict[str, Any]
) -> None:
    (port,) = container["ports"]
    assert str(port["containerPort"]) in dockerfile_instruction("EXPOSE").split()
    pod = production["Deployment"]["spec"]["template"]["spec"]
    user, group = dockerfile_instruction("USER").split(":")
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (
        int(user),
        int(group),
    )
    # The model the Dockerfile copies in is the one the API is told to load.
    model_path = production["ConfigMap"]["data"]["MODEL_PATH"]
    dockerfile = (LAB / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(rf"^COPY model/ {Path(model_path).parent}/$", dockerfile, flags=re.MULTILINE)
    assert re.search(rf"\bMODEL_PATH={re.escape(model_path)}\b", dockerfile)


def test_a_read_only_root_keeps_a_writable_tmp(
    production: dict[str, dict[str, Any]], container: dict[str, Any]
) -> None:
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    pod = production["Deployment"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


def test_memory_is_requested_as_it_is_limited(container: dict[str, Any]) -> None:
    resources = container["resources"]
    assert resources["requests"]["memory"] == resources["limits"]["memory"]


def test_a_private_package_gets_its_pull_secret() -> None:
    values = production_values() | {"imagePullSecrets": [{"name": "ghcr-pull"}]}
    pod = render(values)["Deployment"]["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "ghcr-pull"}]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("replicas", 3),  # a typo of replicaCount
        ("image", {"repository": REPOSITORY, "digest": "sha256:abc"}),  # a short digest
    ],
)
def test_the_chart_schema_refuses_a_mistake_before_the_cluster_sees_it(
    key: str, value: Any
) -> None:
    with pytest.raises(helm.HelmError, match="values don't meet the specifications|schema"):
        render(production_values() | {key: value})
