"""Does the namespace's quota fit what runs in it? The sum, done offline.

Reads the lab's workloads, works out how many pods each can have at once
at its peak, adds up their requests and limits, and compares the totals
with quota/10-resourcequota.yaml. Each container is also checked against
the bounds of quota/20-limitrange.yaml. No cluster needed:

    uv run python tools/quota.py

Peak pods: a Deployment at its HorizontalPodAutoscaler's maxReplicas (or
its replicas) plus the extra pods its rolling update may start (maxSurge);
a Job at its parallelism; a CronJob at one run at a time, which its
concurrencyPolicy must promise. Exit codes: 0 everything fits, 1 something
does not (the table says what), 2 a file cannot be read.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

LAB = Path(__file__).resolve().parent.parent
QUOTA = LAB / "quota" / "10-resourcequota.yaml"
LIMIT_RANGE = LAB / "quota" / "20-limitrange.yaml"
# Everything the lab may run in the namespace at once. The GPU server counts
# too: on a cluster with a GPU it would share the same budget.
WORKLOADS = [
    "k8s/20-deployment.yaml",
    "load/hpa-load-job.yaml",
    "batch/20-score-job.yaml",
    "batch/30-score-cronjob.yaml",
    "gpu/gpu-inference.yaml",
]
HPA = LAB / "k8s" / "40-hpa.yaml"
GPU = "nvidia.com/gpu"

Obj = dict[str, Any]

_CPU = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m?)$")
_MEMORY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_MEMORY_FACTOR = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def cpu_cores(quantity: str | int | float) -> Decimal:
    """A CPU quantity in cores: "250m" is 0.25, "1" and 1 are 1."""
    match = _CPU.match(str(quantity))
    if not match:
        raise ValueError(f"not a CPU quantity: {quantity!r}")
    number = Decimal(match.group(1))
    return number / 1000 if match.group(2) else number


def memory_bytes(quantity: str | int) -> int:
    """A memory quantity in bytes: "256Mi" is 256 * 2**20, "1G" is 10**9."""
    match = _MEMORY.match(str(quantity))
    if not match:
        raise ValueError(f"not a memory quantity: {quantity!r}")
    return int(Decimal(match.group(1)) * _MEMORY_FACTOR[match.group(2)])


def load(path: Path) -> Obj:
    with path.open() as f:
        (doc,) = [d for d in yaml.safe_load_all(f) if d is not None]
    return doc


@dataclass
class Usage:
    """Requests and limits of one pod, or of many added up."""

    requests_cpu: Decimal = Decimal(0)
    requests_memory: int = 0
    limits_cpu: Decimal = Decimal(0)
    limits_memory: int = 0
    gpus: int = 0
    pods: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.requests_cpu + other.requests_cpu,
            self.requests_memory + other.requests_memory,
            self.limits_cpu + other.limits_cpu,
            self.limits_memory + other.limits_memory,
            self.gpus + other.gpus,
            self.pods + other.pods,
        )

    def __mul__(self, n: int) -> Usage:
        return Usage(
            self.requests_cpu * n,
            self.requests_memory * n,
            self.limits_cpu * n,
            self.limits_memory * n,
            self.gpus * n,
            self.pods * n,
        )


@dataclass
class Workload:
    source: str
    kind: str
    name: str
    peak_pods: int
    pod: Usage
    problems: list[str] = field(default_factory=list)

    @property
    def peak(self) -> Usage:
        return self.pod * self.peak_pods


def pod_usage(pod_spec: Obj) -> Usage:
    """What one pod counts against a quota: the sum over its containers.
    An extended resource's request is its limit when only the limit is set,
    as the API server fills it in."""
    usage = Usage(pods=1)
    for container in pod_spec["containers"]:
        resources = container.get("resources", {})
        requests = resources.get("requests", {})
        limits = resources.get("limits", {})
        usage.requests_cpu += cpu_cores(requests.get("cpu", limits.get("cpu", 0)))
        usage.requests_memory += memory_bytes(requests.get("memory", limits.get("memory", 0)))
        usage.limits_cpu += cpu_cores(limits.get("cpu", 0))
        usage.limits_memory += memory_bytes(limits.get("memory", 0))
        usage.gpus += int(requests.get(GPU, limits.get(GPU, 0)))
    return usage


def surge(deployment: Obj, replicas: int) -> int:
    """Extra pods a rolling update may start: maxSurge, a percentage rounded
    up (the default is 25 %)."""
    strategy = deployment["spec"].get("strategy", {})
    if strategy.get("type") == "Recreate":
        return 0
    value = strategy.get("rollingUpdate", {}).get("maxSurge", "25%")
    if isinstance(value, str):
        return math.ceil(replicas * int(value.rstrip("%")) / 100)
    return int(value)


def workload(source: str, hpa: Obj) -> Workload:
    obj = load(LAB / source)
    kind, name, spec = obj["kind"], obj["metadata"]["name"], obj["spec"]
    problems: list[str] = []
    if kind == "Deployment":
        target = hpa["spec"]["scaleTargetRef"]
        if (target["kind"], target["name"]) == (kind, name):
            replicas = hpa["spec"]["maxReplicas"]
        else:
            replicas = spec.get("replicas", 1)
        peak = replicas + surge(obj, replicas)
        pod_spec = spec["template"]["spec"]
    elif kind == "Job":
        peak = spec.get("parallelism", 1)
        pod_spec = spec["template"]["spec"]
    elif kind == "CronJob":
        job = spec["jobTemplate"]["spec"]
        peak = job.get("parallelism", 1)
        if spec.get("concurrencyPolicy", "Allow") != "Forbid":
            problems.append("concurrencyPolicy is not Forbid: runs may pile up without bound")
        pod_spec = job["template"]["spec"]
    else:
        raise ValueError(f"{source}: cannot count the pods of a {kind}")
    return Workload(source, kind, name, peak, pod_usage(pod_spec), problems)


def limit_range_problems(source: str, pod_spec: Obj, limit_range: Obj) -> list[str]:
    """Containers that ask for more than the LimitRange's max or less than its min."""
    problems = []
    for item in limit_range["spec"]["limits"]:
        if item["type"] != "Container":
            continue
        for container in pod_spec["containers"]:
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                for resource, value in resources.get(kind, {}).items():
                    parse = cpu_cores if resource == "cpu" else memory_bytes
                    if resource not in ("cpu", "memory"):
                        continue
                    high = item.get("max", {}).get(resource)
                    low = item.get("min", {}).get(resource)
                    where = f"{source}: {container['name']} {kind}.{resource} {value}"
                    if high is not None and parse(value) > parse(high):
                        problems.append(f"{where} is above the LimitRange's max {high}")
                    if low is not None and parse(value) < parse(low):
                        problems.append(f"{where} is below the LimitRange's min {low}")
    return problems


def pod_spec_of(source: str) -> Obj:
    obj = load(LAB / source)
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def hard_limits(quota: Obj) -> Usage:
    hard = quota["spec"]["hard"]
    return Usage(
        requests_cpu=cpu_cores(hard["requests.cpu"]),
        requests_memory=memory_bytes(hard["requests.memory"]),
        limits_cpu=cpu_cores(hard["limits.cpu"]),
        limits_memory=memory_bytes(hard["limits.memory"]),
        gpus=int(hard[f"requests.{GPU}"]),
        pods=int(hard["pods"]),
    )


def over_quota(total: Usage, hard: Usage) -> list[str]:
    """The totals that exceed the quota, one line each."""
    lines = []
    for label, used, allowed in (
        ("requests.cpu", total.requests_cpu, hard.requests_cpu),
        ("requests.memory", total.requests_memory, hard.requests_memory),
        ("limits.cpu", total.limits_cpu, hard.limits_cpu),
        ("limits.memory", total.limits_memory, hard.limits_memory),
        (f"requests.{GPU}", total.gpus, hard.gpus),
        ("pods", total.pods, hard.pods),
    ):
        if used > allowed:
            needed, quota = show(label, used), show(label, allowed)
            lines.append(f"{label}: {needed} needed, the quota allows {quota}")
    return lines


def show(label: str, value: Decimal | int) -> str:
    if label.endswith("memory"):
        return f"{int(value) / 2**20:g}Mi"
    if label.endswith("cpu"):
        return f"{Decimal(value).normalize():f}"
    return str(value)


def row(cells: list[str]) -> str:
    name, *numbers = cells
    widths = [5, 9, 9, 9, 9, 4]
    return "  ".join([name.ljust(30), *(n.rjust(w) for n, w in zip(numbers, widths, strict=True))])


def usage_cells(u: Usage) -> list[str]:
    return [
        str(u.pods),
        show("cpu", u.requests_cpu),
        show("memory", u.requests_memory),
        show("cpu", u.limits_cpu),
        show("memory", u.limits_memory),
        str(u.gpus),
    ]


def main() -> int:
    try:
        quota, limit_range, hpa = load(QUOTA), load(LIMIT_RANGE), load(HPA)
        workloads = [workload(source, hpa) for source in WORKLOADS]
        problems = [p for w in workloads for p in w.problems]
        for source in WORKLOADS:
            problems += limit_range_problems(source, pod_spec_of(source), limit_range)
    except (OSError, ValueError, KeyError, yaml.YAMLError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    total = sum((w.peak for w in workloads), Usage())
    hard = hard_limits(quota)
    print(row(["at its peak", "pods", "req cpu", "req mem", "lim cpu", "lim mem", "gpu"]))
    for w in workloads:
        print(row([f"{w.kind} {w.name}", *usage_cells(w.peak)]))
    print(row(["total", *usage_cells(total)]))
    print(row([f"quota {quota['metadata']['name']}", *usage_cells(hard)]))
    problems += over_quota(total, hard)
    for problem in problems:
        print(f"does not fit: {problem}")
    if problems:
        return 1
    print("everything fits the quota and the LimitRange")
    return 0


if __name__ == "__main__":
    sys.exit(main())
