"""Workloads at scale, checked without a cluster: the batch scoring Job and
its CronJob, the namespace's ResourceQuota and LimitRange, and the GPU
Deployment that is validated but never applied to kind."""

from __future__ import annotations

import csv
import io
import shlex

import pytest
from conftest import (
    BATCH_CLI_FINAL_EXIT_CODES,
    WINE_FEATURES,
    Obj,
    cpu_cores,
    memory_bytes,
)

import quota

GPU = "nvidia.com/gpu"


def script_lines(container: Obj) -> list[list[str]]:
    """The commands of a `sh -c` container, one word list per line."""
    assert container["command"] == ["/bin/sh", "-c"]
    (script,) = container["args"]
    return [shlex.split(line) for line in script.splitlines() if line.strip()]


def batch_command(container: Obj) -> list[str]:
    """The words after `python -m wine_api.batch`."""
    for words in script_lines(container):
        if words[:3] == ["python", "-m", "wine_api.batch"]:
            return words[3:]
    raise AssertionError("the script never runs python -m wine_api.batch")


def mount_of(pod: Obj, container: Obj, path: str) -> tuple[Obj, Obj]:
    """The volume mount that holds `path`, and its volume."""
    volumes = {v["name"]: v for v in pod["volumes"]}
    for mount in container["volumeMounts"]:
        if path.startswith(mount["mountPath"].rstrip("/") + "/"):
            return mount, volumes[mount["name"]]
    raise AssertionError(f"{path} is on no volume")


# ------------------------------------------------------------ the scoring Job


def test_the_job_cannot_run_forever(score_job: Obj) -> None:
    spec = score_job["spec"]
    assert 0 < spec["backoffLimit"] <= 3
    assert 0 < spec["activeDeadlineSeconds"] <= 3600
    # A finished Job and its pod are deleted, not left to pile up.
    assert spec["ttlSecondsAfterFinished"] > 0
    # A failed pod is replaced (and counted), never restarted in place.
    assert spec["template"]["spec"]["restartPolicy"] == "Never"


def test_a_failure_a_retry_cannot_fix_fails_the_job_at_once(score_job: Obj) -> None:
    (container,) = score_job["spec"]["template"]["spec"]["containers"]
    rules = score_job["spec"]["podFailurePolicy"]["rules"]
    fail = [r for r in rules if r["action"] == "FailJob"]
    (rule,) = fail
    exit_codes = rule["onExitCodes"]
    assert exit_codes["containerName"] == container["name"]
    assert exit_codes["operator"] == "In"
    assert set(exit_codes["values"]) == BATCH_CLI_FINAL_EXIT_CODES


def test_a_drained_node_does_not_use_up_the_retries(score_job: Obj) -> None:
    rules = score_job["spec"]["podFailurePolicy"]["rules"]
    assert {
        "action": "Ignore",
        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
    } in rules


def test_the_job_scores_with_the_api_image(score_job: Obj, api_container: Obj) -> None:
    # The same code, libraries and model as /predict: the same answers.
    (container,) = score_job["spec"]["template"]["spec"]["containers"]
    assert container["image"] == api_container["image"]
    assert container["imagePullPolicy"] == api_container["imagePullPolicy"]


def test_the_job_reads_the_csv_the_configmap_holds(score_job: Obj, score_input: Obj) -> None:
    pod = score_job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    input_path = batch_command(container)[0]
    mount, volume = mount_of(pod, container, input_path)
    assert mount.get("readOnly") is True
    assert volume["configMap"]["name"] == score_input["metadata"]["name"]
    key = input_path.removeprefix(mount["mountPath"].rstrip("/") + "/")
    assert key in score_input["data"]


def test_the_job_writes_its_predictions_to_a_scratch_volume(score_job: Obj) -> None:
    pod = score_job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    output_path = batch_command(container)[1]
    _, volume = mount_of(pod, container, output_path)
    assert "emptyDir" in volume
    # ... and prints them, so `kubectl logs job/wine-score` shows them.
    assert ["cat", output_path] in script_lines(container)
    # A failed scoring run must fail the pod: `set -e` stops the script at
    # the CLI's exit code.
    assert script_lines(container)[0] == ["set", "-e"]


def test_the_input_is_a_csv_the_batch_cli_reads(score_input: Obj) -> None:
    (text,) = score_input["data"].values()
    rows = list(csv.reader(io.StringIO(text)))
    header, *wines = rows
    assert header == ["sample_id", *WINE_FEATURES]
    assert wines, "no wine to score"
    for row in wines:
        assert len(row) == len(header), row[0]
        [float(value) for value in row[1:]]


def test_the_cronjob_runs_the_job_unchanged(score_job: Obj, score_cronjob: Obj) -> None:
    # What you ran by hand is what runs at night.
    template = score_cronjob["spec"]["jobTemplate"]
    assert template["spec"] == score_job["spec"]
    assert template["metadata"]["labels"] == score_job["metadata"]["labels"]


def test_the_cronjob_never_runs_twice_at_once(score_cronjob: Obj) -> None:
    spec = score_cronjob["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    # A run that could not start on time is skipped, not started hours late.
    assert 0 < spec["startingDeadlineSeconds"] <= 3600
    assert spec["successfulJobsHistoryLimit"] >= 1
    assert spec["failedJobsHistoryLimit"] >= 1


def test_the_cronjob_schedule_is_explicit(score_cronjob: Obj) -> None:
    spec = score_cronjob["spec"]
    fields = spec["schedule"].split()
    assert len(fields) == 5, "minute hour day-of-month month day-of-week"
    # Without a time zone the schedule follows the control plane's clock.
    assert spec["timeZone"]


# ------------------------------------------------------------ quota and limits


def test_the_quota_fits_every_workload_at_its_peak(resource_quota: Obj) -> None:
    hpa = quota.load(quota.HPA)
    workloads = [quota.workload(source, hpa) for source in quota.WORKLOADS]
    assert [p for w in workloads for p in w.problems] == []
    total = sum((w.peak for w in workloads), quota.Usage())
    assert quota.over_quota(total, quota.hard_limits(resource_quota)) == []


def test_the_api_counts_at_the_hpa_maximum_plus_its_surge(hpa: Obj, deployment: Obj) -> None:
    (api,) = [quota.workload(s, hpa) for s in quota.WORKLOADS if s == "k8s/20-deployment.yaml"]
    surge = deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    assert api.peak_pods == hpa["spec"]["maxReplicas"] + surge


def test_every_workload_file_is_counted(pod_templates: dict[str, Obj]) -> None:
    assert set(quota.WORKLOADS) == set(pod_templates)


def test_every_container_fits_the_limit_range(limit_range: Obj) -> None:
    problems = []
    for source in quota.WORKLOADS:
        problems += quota.limit_range_problems(source, quota.pod_spec_of(source), limit_range)
    assert problems == []


def test_a_container_without_resources_gets_defaults_the_quota_can_count(
    resource_quota: Obj, limit_range: Obj
) -> None:
    # With requests.cpu in the quota, a pod without a CPU request is refused
    # unless the LimitRange gives it one.
    (container,) = [item for item in limit_range["spec"]["limits"] if item["type"] == "Container"]
    for quota_key in resource_quota["spec"]["hard"]:
        kind, _, resource = quota_key.partition(".")
        if resource in ("cpu", "memory"):
            section = "defaultRequest" if kind == "requests" else "default"
            assert resource in container[section], f"{quota_key}: no {section}"


def test_the_limit_range_defaults_are_within_its_bounds(limit_range: Obj) -> None:
    (item,) = limit_range["spec"]["limits"]
    for resource, parse in (("cpu", cpu_cores), ("memory", memory_bytes)):
        low, high = parse(item["min"][resource]), parse(item["max"][resource])
        request, limit = parse(item["defaultRequest"][resource]), parse(item["default"][resource])
        assert low <= request <= limit <= high, resource


def test_the_quota_refuses_what_would_not_fit(resource_quota: Obj) -> None:
    # The arithmetic the tests rely on: twice the peak does not fit.
    hpa = quota.load(quota.HPA)
    total = sum((quota.workload(s, hpa).peak for s in quota.WORKLOADS), quota.Usage())
    assert quota.over_quota(total * 2, quota.hard_limits(resource_quota)) != []


# ------------------------------------------------------------ GPU scheduling


@pytest.fixture
def gpu_container(gpu_deployment: Obj) -> Obj:
    (container,) = gpu_deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_gpus_are_requested_whole_under_limits(gpu_container: Obj) -> None:
    resources = gpu_container["resources"]
    gpus = resources["limits"][GPU]
    assert isinstance(gpus, int)
    assert gpus >= 1
    # Extended resources cannot be overcommitted: a request, if written,
    # must equal the limit.
    assert resources.get("requests", {}).get(GPU, gpus) == gpus


def test_the_pod_tolerates_the_gpu_nodes_taint(gpu_deployment: Obj) -> None:
    tolerations = gpu_deployment["spec"]["template"]["spec"]["tolerations"]
    assert any(
        t["key"] == GPU and t["operator"] == "Exists" and t["effect"] == "NoSchedule"
        for t in tolerations
    )


def test_the_pod_selects_gpu_nodes(gpu_deployment: Obj) -> None:
    selector = gpu_deployment["spec"]["template"]["spec"]["nodeSelector"]
    assert selector == {"nvidia.com/gpu.present": "true"}


def test_a_rollout_never_needs_a_gpu_more(gpu_deployment: Obj, resource_quota: Obj) -> None:
    replicas = gpu_deployment["spec"]["replicas"]
    assert quota.surge(gpu_deployment, replicas) == 0
    gpus = gpu_deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"][GPU]
    assert replicas * gpus <= int(resource_quota["spec"]["hard"][f"requests.{GPU}"])
