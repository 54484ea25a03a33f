"""The canary manifests in k8s/, checked the way the cluster would act on
them. kubernetes-validate (run by `course lab test`) checks the core
objects against the Kubernetes 1.37 schemas, but it has no schema for the
Gateway API's HTTPRoute (a CRD) and only warns about it, so the route is
checked here: its API version, that every backend is a Service of this lab
on a port that Service has, and the weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

K8S = Path(__file__).resolve().parent.parent / "k8s"
Obj = dict[str, Any]


def load(path: Path) -> list[Obj]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str], Obj]:
    found = {}
    for path in sorted(K8S.rglob("*.yaml")):
        for doc in load(path):
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def pod_labels(deployment: Obj) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def test_the_shared_service_selects_both_tracks_by_replica_ratio(objects: dict) -> None:
    stable = objects[("Deployment", "wine-api-stable")]
    canary = objects[("Deployment", "wine-api-canary")]
    selector = objects[("Service", "wine-api")]["spec"]["selector"]
    assert selects(selector, pod_labels(stable))
    assert selects(selector, pod_labels(canary))
    share = canary["spec"]["replicas"] / (canary["spec"]["replicas"] + stable["spec"]["replicas"])
    assert share == 0.25


def test_each_deployment_owns_only_its_own_pods(objects: dict) -> None:
    stable = objects[("Deployment", "wine-api-stable")]
    canary = objects[("Deployment", "wine-api-canary")]
    for mine, other in ((stable, canary), (canary, stable)):
        selector = mine["spec"]["selector"]["matchLabels"]
        assert selects(selector, pod_labels(mine))
        # Overlapping selectors would make the two Deployments fight over pods.
        assert not selects(selector, pod_labels(other))
    assert (
        stable["spec"]["template"]["spec"]["containers"][0]["image"]
        != (canary["spec"]["template"]["spec"]["containers"][0]["image"])
    )


@pytest.mark.parametrize("name", ["wine-api-stable", "wine-api-canary"])
def test_the_pods_are_probed_limited_and_unprivileged(objects: dict, name: str) -> None:
    pod = objects[("Deployment", name)]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert {"requests", "limits"} <= container["resources"].keys()


def test_the_httproute_weights_point_at_existing_services(objects: dict) -> None:
    route = objects[("HTTPRoute", "wine-api")]
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["parentRefs"] == [{"name": "wine-gateway"}]
    (rule,) = route["spec"]["rules"]
    weights = {}
    for ref in rule["backendRefs"]:
        service = objects[("Service", ref["name"])]
        assert service["metadata"]["namespace"] == route["metadata"]["namespace"]
        assert ref["port"] in [p["port"] for p in service["spec"]["ports"]]
        assert isinstance(ref["weight"], int)
        assert 0 <= ref["weight"] <= 1_000_000  # the Gateway API's bounds
        weights[ref["name"]] = ref["weight"]
    assert weights["wine-api-canary"] / sum(weights.values()) == 0.05


@pytest.mark.parametrize("track", ["stable", "canary"])
def test_each_route_backend_selects_exactly_one_track(objects: dict, track: str) -> None:
    selector = objects[("Service", f"wine-api-{track}")]["spec"]["selector"]
    chosen = [
        name
        for (kind, name), doc in objects.items()
        if kind == "Deployment" and selects(selector, pod_labels(doc))
    ]
    assert chosen == [f"wine-api-{track}"]
