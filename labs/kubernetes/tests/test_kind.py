"""The kind cluster config: the version the manifests are validated against,
pinned so every learner gets the same nodes."""

from __future__ import annotations

import re

from conftest import Obj, admits

# The validate step checks the manifests against Kubernetes 1.37's schemas.
VALIDATED_MINOR = "1.37"
NODE_IMAGE = re.compile(r"kindest/node:v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)@sha256:[0-9a-f]{64}")


def test_it_is_a_kind_cluster_config(kind_config: Obj) -> None:
    assert kind_config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert kind_config["kind"] == "Cluster"


def test_the_cluster_is_named_as_the_lab_steps_expect(kind_config: Obj) -> None:
    # The steps use `--name wine` and the kubectl context `kind-wine`.
    assert kind_config["name"] == "wine"


def test_one_control_plane_and_two_workers(kind_config: Obj) -> None:
    # Two workers let the pods spread and a drained node leave another.
    roles = sorted(node["role"] for node in kind_config["nodes"])
    assert roles == ["control-plane", "worker", "worker"]


def test_every_node_runs_the_validated_version_pinned_by_digest(kind_config: Obj) -> None:
    images = {node["image"] for node in kind_config["nodes"]}
    assert len(images) == 1, "nodes of one cluster must run one Kubernetes version"
    (image,) = images
    match = NODE_IMAGE.fullmatch(image)
    assert match, f"{image}: want kindest/node:vX.Y.Z@sha256:<digest>"
    assert match["version"].startswith(VALIDATED_MINOR + ".")


def test_the_chart_admits_the_cluster(kind_config: Obj, chart_metadata: Obj) -> None:
    # helm install refuses a cluster outside the chart's kubeVersion.
    (image,) = {node["image"] for node in kind_config["nodes"]}
    match = NODE_IMAGE.fullmatch(image)
    assert match
    assert admits(chart_metadata["kubeVersion"], match["version"])
