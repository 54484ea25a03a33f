"""What the plain manifests in k8s/ (and the load Job) promise, checked the
way the cluster would act on them: selectors against labels, named ports
against container ports, requests against limits, the HPA against the
Deployment it scales, the security settings against the "restricted" Pod
Security profile."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from conftest import (
    API_PORT,
    API_SETTINGS,
    IMAGE_USER,
    LIVENESS_PATH,
    PREDICT_PATH,
    READINESS_PATH,
    WINE_FEATURES,
    Obj,
    container_port,
    cpu_cores,
    load_documents,
    memory_bytes,
    selects,
)

# The API's resident memory measured in the chapter (Scaling and resources):
# 145 MiB after startup, 149 MiB at most after 20 batches of 1000 wines.
MEASURED_API_MEMORY = 149 * 2**20

STABLE_API_VERSIONS = {
    "Namespace": "v1",
    "ConfigMap": "v1",
    "Service": "v1",
    "Deployment": "apps/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
}


def test_each_file_holds_one_of_the_expected_objects(manifest_files: list[Path]) -> None:
    kinds = []
    for path in manifest_files:
        documents = load_documents(path)
        assert len(documents) == 1, f"{path.name}: one object per file"
        (doc,) = documents
        assert doc["metadata"]["name"], path.name
        kinds.append(doc["kind"])
    assert sorted(kinds) == sorted(STABLE_API_VERSIONS)


def test_the_namespace_is_applied_first(manifest_files: list[Path]) -> None:
    # `kubectl apply -f k8s/` applies files in name order; objects in a
    # namespace that does not exist yet are refused.
    (first,) = load_documents(manifest_files[0])
    assert first["kind"] == "Namespace"


def test_every_object_lives_in_the_lab_namespace(
    manifests: dict[str, Obj], extra_objects: dict[str, Obj], namespace: Obj
) -> None:
    name = namespace["metadata"]["name"]
    for kind, obj in manifests.items():
        if kind != "Namespace":
            assert obj["metadata"].get("namespace") == name, kind
    for source, obj in extra_objects.items():
        assert obj["metadata"].get("namespace") == name, source


def test_the_namespace_enforces_the_restricted_pod_security_profile(namespace: Obj) -> None:
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_only_stable_api_versions_are_used(
    manifests: dict[str, Obj], extra_objects: dict[str, Obj]
) -> None:
    stable = {
        **STABLE_API_VERSIONS,
        "Job": "batch/v1",
        "CronJob": "batch/v1",
        "ResourceQuota": "v1",
        "LimitRange": "v1",
    }
    for obj in [*manifests.values(), *extra_objects.values()]:
        assert obj["apiVersion"] == stable[obj["kind"]], obj["metadata"]["name"]


def test_the_deployment_selects_its_own_pods(deployment: Obj) -> None:
    selector = deployment["spec"]["selector"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selects(selector, pod_labels)


def test_selectors_hold_only_labels_that_never_change(deployment: Obj) -> None:
    # A Deployment's selector is immutable: with the version in it, the next
    # release could not be applied.
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert "app.kubernetes.io/version" not in selector
    assert set(selector) == {"app.kubernetes.io/name", "app.kubernetes.io/instance"}


def test_the_service_sends_traffic_to_the_api_pods_only(
    service: Obj, deployment: Obj, pdb: Obj, pod_templates: dict[str, Obj]
) -> None:
    selector = service["spec"]["selector"]
    assert selects(selector, deployment["spec"]["template"]["metadata"]["labels"])
    # The load generator must not receive the traffic it sends, nor a batch
    # pod requests; nor may the API's budget count them.
    for source, template in pod_templates.items():
        if source != "k8s/20-deployment.yaml":
            assert not selects(selector, template["metadata"]["labels"]), source
            assert not selects(pdb["spec"]["selector"], template["metadata"]["labels"]), source


def test_the_service_forwards_to_the_port_the_api_listens_on(
    service: Obj, api_container: Obj
) -> None:
    (port,) = service["spec"]["ports"]
    assert container_port(api_container, port["targetPort"]) == API_PORT


def test_the_probes_ask_the_api_the_right_questions(api_container: Obj) -> None:
    # Readiness asks "can you serve predictions?", liveness and startup ask
    # "is the process up?". Liveness on /ready would restart a pod whose
    # model is missing, again and again.
    expected = {
        "readinessProbe": READINESS_PATH,
        "livenessProbe": LIVENESS_PATH,
        "startupProbe": LIVENESS_PATH,
    }
    for probe_name, path in expected.items():
        probe = api_container[probe_name]["httpGet"]
        assert probe["path"] == path, probe_name
        assert container_port(api_container, probe["port"]) == API_PORT, probe_name


def test_the_startup_probe_leaves_a_minute_to_load_the_model(api_container: Obj) -> None:
    # The API answered /ready 6.5-10.1 s after start on a busy 2-core machine
    # (module 03); a slow laptop pulling pages from swap needs more.
    probe = api_container["startupProbe"]
    assert probe["failureThreshold"] * probe["periodSeconds"] >= 60


def test_the_hpa_scales_the_deployment(hpa: Obj, deployment: Obj) -> None:
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        deployment["apiVersion"],
        deployment["kind"],
        deployment["metadata"]["name"],
    )


def test_the_hpa_keeps_two_pods_and_room_to_grow(hpa: Obj) -> None:
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


def test_the_deployment_leaves_the_replica_count_to_the_hpa(deployment: Obj) -> None:
    # `replicas:` in the file would reset the HPA's choice at every apply.
    assert "replicas" not in deployment["spec"]


def test_cpu_utilization_has_a_request_to_be_measured_against(hpa: Obj, deployment: Obj) -> None:
    # Utilization is usage / request: without a CPU request on every
    # container the HPA reports "missing request for cpu" and does nothing.
    resource_metrics = [m["resource"]["name"] for m in hpa["spec"]["metrics"]]
    assert resource_metrics == ["cpu"]
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        assert cpu_cores(container["resources"]["requests"]["cpu"]) > 0, container["name"]


def test_a_desired_count_follows_the_documented_formula(hpa: Obj) -> None:
    # desired = ceil(current * currentUtilization / target), within min..max.
    spec = hpa["spec"]
    target = spec["metrics"][0]["resource"]["target"]["averageUtilization"]

    def desired(current: int, utilization: float) -> int:
        wanted = math.ceil(current * utilization / target)
        return max(spec["minReplicas"], min(spec["maxReplicas"], wanted))

    assert desired(2, 100) == 4  # twice the target: twice the pods
    assert desired(4, 20) == 2  # idle: back to the minimum, never below
    assert desired(3, 400) == spec["maxReplicas"]  # never above the maximum


def test_the_disruption_budget_covers_the_api_pods(pdb: Obj, deployment: Obj) -> None:
    assert selects(pdb["spec"]["selector"], deployment["spec"]["template"]["metadata"]["labels"])


def test_the_disruption_budget_lets_a_node_drain_at_minimum_scale(pdb: Obj, hpa: Obj) -> None:
    # A budget that allows no eviction at all blocks every node drain and
    # every cluster upgrade.
    replicas = hpa["spec"]["minReplicas"]
    spec = pdb["spec"]
    if "maxUnavailable" in spec:
        allowed = _pods(spec["maxUnavailable"], replicas)
    else:
        allowed = replicas - _pods(spec["minAvailable"], replicas)
    assert allowed >= 1


def _pods(value: int | str, replicas: int) -> int:
    """A budget's number of pods; the disruption controller rounds percentages up."""
    if isinstance(value, int):
        return value
    return math.ceil(replicas * int(value.rstrip("%")) / 100)


def test_every_container_has_requests_and_limits(pod_templates: dict[str, Obj]) -> None:
    for source, template in pod_templates.items():
        for container in template["spec"]["containers"]:
            where = f"{source}: {container['name']}"
            requests = container["resources"]["requests"]
            limits = container["resources"]["limits"]
            assert cpu_cores(requests["cpu"]) <= cpu_cores(limits["cpu"]), where
            assert memory_bytes(requests["memory"]) <= memory_bytes(limits["memory"]), where


def test_the_api_memory_limit_leaves_headroom_over_measured_use(api_container: Obj) -> None:
    limit = memory_bytes(api_container["resources"]["limits"]["memory"])
    assert limit >= 1.5 * MEASURED_API_MEMORY


def test_every_pod_meets_the_restricted_pod_security_profile(
    pod_templates: dict[str, Obj],
) -> None:
    for source, template in pod_templates.items():
        spec = template["spec"]
        pod_security = spec.get("securityContext", {})
        for host_namespace in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(host_namespace), f"{source}: {host_namespace}"
        assert all("hostPath" not in v for v in spec.get("volumes", [])), source
        for container in spec["containers"]:
            where = f"{source}: {container['name']}"
            security = {**pod_security, **container.get("securityContext", {})}
            assert security.get("runAsNonRoot") is True, where
            assert security.get("runAsUser") != 0, where
            assert security.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
            assert security.get("allowPrivilegeEscalation") is False, where
            assert security.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not security.get("privileged"), where
            assert security.get("readOnlyRootFilesystem") is True, where


def test_the_api_runs_as_the_image_user(deployment: Obj) -> None:
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == IMAGE_USER


def test_the_only_writable_path_is_a_volume(deployment: Obj, api_container: Obj) -> None:
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    for mount in api_container["volumeMounts"]:
        assert "emptyDir" in volumes[mount["name"]], mount["mountPath"]
    assert [m["mountPath"] for m in api_container["volumeMounts"]] == ["/tmp"]


def test_the_api_needs_no_kubernetes_credentials(deployment: Obj) -> None:
    assert deployment["spec"]["template"]["spec"]["automountServiceAccountToken"] is False


def test_the_configmap_sets_only_what_the_api_reads(configmap: Obj, api_container: Obj) -> None:
    # A misspelt key (LOGLEVEL) would be an environment variable nobody reads.
    assert set(configmap["data"]) <= API_SETTINGS
    (source,) = api_container["envFrom"]
    assert source["configMapRef"]["name"] == configmap["metadata"]["name"]


def test_the_image_has_a_fixed_tag_and_is_never_pulled_again(api_container: Obj) -> None:
    repository, _, tag = api_container["image"].rpartition(":")
    assert repository == "wine-api"
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", tag), tag
    # An image loaded with `kind load docker-image` exists on the nodes only.
    assert api_container["imagePullPolicy"] == "IfNotPresent"


def test_pods_stop_gracefully(deployment: Obj, api_container: Obj) -> None:
    sleep = api_container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert 0 < sleep < deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]


def test_rollouts_never_reduce_capacity(deployment: Obj) -> None:
    rolling = deployment["spec"]["strategy"]["rollingUpdate"]
    assert rolling["maxUnavailable"] == 0
    assert rolling["maxSurge"] >= 1


def test_the_load_job_calls_the_service(load_job: Obj, service: Obj) -> None:
    (container,) = load_job["spec"]["template"]["spec"]["containers"]
    script = container["args"][0]
    meta = service["metadata"]
    (port,) = service["spec"]["ports"]
    url = f"http://{meta['name']}.{meta['namespace']}.svc.cluster.local:{port['port']}"
    assert f"url={url}{PREDICT_PATH}\n" in script


def test_the_load_job_sends_a_valid_wine(load_job: Obj) -> None:
    (container,) = load_job["spec"]["template"]["spec"]["containers"]
    body = re.search(r"body='(.*?)'", container["args"][0], re.DOTALL)
    assert body, "no body='...' in the script"
    wine = json.loads(body.group(1))
    assert list(wine) == WINE_FEATURES
    assert all(isinstance(v, float) and v >= 0 for v in wine.values())


def test_the_load_job_cannot_run_forever(load_job: Obj) -> None:
    spec = load_job["spec"]
    assert 0 < spec["activeDeadlineSeconds"] <= 600
    assert spec["backoffLimit"] == 0
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
