"""Shared fixtures: the lab's manifests, chart and kind config, parsed once,
and small helpers that read them the way Kubernetes does (selectors, named
ports, resource quantities).

The tests need no cluster and no helm: they read the YAML files. kubectl,
kind and helm are exercised by the lab's steps on your machine, and
`course lab test kubernetes` runs kubernetes-validate, helm lint and a helm
render over the same files.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

LAB = Path(__file__).resolve().parent.parent
K8S = LAB / "k8s"
CHART = LAB / "chart" / "wine-api"
LOAD_JOB = LAB / "load" / "hpa-load-job.yaml"
KIND_CONFIG = LAB / "kind.yaml"
BATCH = LAB / "batch"
QUOTA = LAB / "quota"
GPU_DEPLOYMENT = LAB / "gpu" / "gpu-inference.yaml"

# tools/quota.py reads quantities as Kubernetes does; the tests use the same code.
sys.path.insert(0, str(LAB / "tools"))
from quota import cpu_cores, memory_bytes  # noqa: E402, F401

# The contract of the wine-api image built in module 03 (its Dockerfile and
# wine_api/app.py): where it listens, what its probes are, what it reads
# from the environment, which user it runs as.
API_PORT = 8000
LIVENESS_PATH = "/health"
READINESS_PATH = "/ready"
PREDICT_PATH = "/predict"
# MODEL_URI and MLFLOW_TRACKING_URI load the model from an MLflow registry
# instead of the file in the image (the image needs mlflow for that).
API_SETTINGS = {"MODEL_PATH", "LOG_LEVEL", "MODEL_URI", "MLFLOW_TRACKING_URI"}
IMAGE_USER = 10001
# The exit codes of module 03's batch CLI (python -m wine_api.batch) that a
# retry cannot change: no row predicted, unreadable input, no model.
BATCH_CLI_FINAL_EXIT_CODES = {1, 2, 3}
WINE_FEATURES = [
    "alcohol",
    "malic_acid",
    "ash",
    "alcalinity_of_ash",
    "magnesium",
    "total_phenols",
    "flavanoids",
    "nonflavanoid_phenols",
    "proanthocyanins",
    "color_intensity",
    "hue",
    "od280_od315_of_diluted_wines",
    "proline",
]

Obj = dict[str, Any]


def load_documents(path: Path) -> list[Obj]:
    """Every non-empty YAML document of a file."""
    with path.open() as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


@pytest.fixture(scope="session")
def manifest_files() -> list[Path]:
    return sorted(K8S.glob("*.yaml"))


@pytest.fixture(scope="session")
def manifests(manifest_files: list[Path]) -> dict[str, Obj]:
    """The objects of k8s/, by kind (each kind appears once)."""
    objects: dict[str, Obj] = {}
    for path in manifest_files:
        for doc in load_documents(path):
            assert doc["kind"] not in objects, f"{path.name}: a second {doc['kind']}"
            objects[doc["kind"]] = doc
    return objects


@pytest.fixture(scope="session")
def namespace(manifests: dict[str, Obj]) -> Obj:
    return manifests["Namespace"]


@pytest.fixture(scope="session")
def deployment(manifests: dict[str, Obj]) -> Obj:
    return manifests["Deployment"]


@pytest.fixture(scope="session")
def service(manifests: dict[str, Obj]) -> Obj:
    return manifests["Service"]


@pytest.fixture(scope="session")
def hpa(manifests: dict[str, Obj]) -> Obj:
    return manifests["HorizontalPodAutoscaler"]


@pytest.fixture(scope="session")
def pdb(manifests: dict[str, Obj]) -> Obj:
    return manifests["PodDisruptionBudget"]


@pytest.fixture(scope="session")
def configmap(manifests: dict[str, Obj]) -> Obj:
    return manifests["ConfigMap"]


@pytest.fixture(scope="session")
def api_container(deployment: Obj) -> Obj:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


@pytest.fixture(scope="session")
def load_job() -> Obj:
    (job,) = load_documents(LOAD_JOB)
    return job


@pytest.fixture(scope="session")
def score_input() -> Obj:
    (doc,) = load_documents(BATCH / "10-score-input.yaml")
    return doc


@pytest.fixture(scope="session")
def score_job() -> Obj:
    (doc,) = load_documents(BATCH / "20-score-job.yaml")
    return doc


@pytest.fixture(scope="session")
def score_cronjob() -> Obj:
    (doc,) = load_documents(BATCH / "30-score-cronjob.yaml")
    return doc


@pytest.fixture(scope="session")
def resource_quota() -> Obj:
    (doc,) = load_documents(QUOTA / "10-resourcequota.yaml")
    return doc


@pytest.fixture(scope="session")
def limit_range() -> Obj:
    (doc,) = load_documents(QUOTA / "20-limitrange.yaml")
    return doc


@pytest.fixture(scope="session")
def gpu_deployment() -> Obj:
    (doc,) = load_documents(GPU_DEPLOYMENT)
    return doc


@pytest.fixture(scope="session")
def extra_objects(
    load_job: Obj,
    score_input: Obj,
    score_job: Obj,
    score_cronjob: Obj,
    resource_quota: Obj,
    limit_range: Obj,
    gpu_deployment: Obj,
) -> dict[str, Obj]:
    """The objects outside k8s/, by the file they come from."""
    return {
        "load/hpa-load-job.yaml": load_job,
        "batch/10-score-input.yaml": score_input,
        "batch/20-score-job.yaml": score_job,
        "batch/30-score-cronjob.yaml": score_cronjob,
        "quota/10-resourcequota.yaml": resource_quota,
        "quota/20-limitrange.yaml": limit_range,
        "gpu/gpu-inference.yaml": gpu_deployment,
    }


@pytest.fixture(scope="session")
def pod_templates(
    deployment: Obj, load_job: Obj, score_job: Obj, score_cronjob: Obj, gpu_deployment: Obj
) -> dict[str, Obj]:
    """Every pod template the lab creates, by the file it comes from."""
    return {
        "k8s/20-deployment.yaml": deployment["spec"]["template"],
        "load/hpa-load-job.yaml": load_job["spec"]["template"],
        "batch/20-score-job.yaml": score_job["spec"]["template"],
        "batch/30-score-cronjob.yaml": score_cronjob["spec"]["jobTemplate"]["spec"]["template"],
        "gpu/gpu-inference.yaml": gpu_deployment["spec"]["template"],
    }


@pytest.fixture(scope="session")
def values() -> Obj:
    (doc,) = load_documents(CHART / "values.yaml")
    return doc


@pytest.fixture(scope="session")
def chart_metadata() -> Obj:
    (doc,) = load_documents(CHART / "Chart.yaml")
    return doc


@pytest.fixture(scope="session")
def kind_config() -> Obj:
    (doc,) = load_documents(KIND_CONFIG)
    return doc


def selects(selector: Obj, labels: dict[str, str]) -> bool:
    """Whether a label selector ({matchLabels, matchExpressions}, or a
    Service's plain map) selects an object with these labels."""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        selector = {"matchLabels": selector}
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        allowed = expression.get("values", [])
        ok = {
            "In": key in labels and labels[key] in allowed,
            "NotIn": labels.get(key) not in allowed,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not ok:
            return False
    return True


def container_port(container: Obj, port: int | str) -> int:
    """The number a probe's or Service's port means for this container: a
    number as is, a name looked up among the container's ports."""
    if isinstance(port, int):
        return port
    for declared in container.get("ports", []):
        if declared.get("name") == port:
            return declared["containerPort"]
    raise AssertionError(f"container {container['name']} has no port named {port!r}")


_FLOOR = re.compile(r">=\s*v?([0-9]+)\.([0-9]+)\.([0-9]+)-0")
_VERSION = re.compile(r"v?([0-9]+)\.([0-9]+)\.([0-9]+)(?:[-+].*)?")


def kube_floor(constraint: str) -> tuple[int, int, int]:
    """The oldest version a chart's kubeVersion admits. The lab's charts use
    one form only, ">=X.Y.Z-0" ("-0": pre-release and vendor suffixes too)."""
    match = _FLOOR.fullmatch(constraint.strip())
    assert match, f"kubeVersion {constraint!r}: want the form >=X.Y.Z-0"
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def admits(constraint: str, version: str) -> bool:
    """Whether a cluster at `version` (1.30.4, v1.30.4-eks-1a2b) passes `constraint`."""
    match = _VERSION.fullmatch(version)
    assert match, f"not a Kubernetes version: {version!r}"
    major, minor, patch = (int(g) for g in match.groups())
    return (major, minor, patch) >= kube_floor(constraint)
