#!/usr/bin/env python3
"""A tiny `helm lint` / `helm template` for machines with no helm binary.

Backed by PyPI `helm-python-sdk` (Helm v4 Go SDK through ctypes), which has a
Python API only. Run it with the tools venv's Python:

    .tools/venv/bin/python scripts/helm.py lint CHART [--strict] [--kube-version v1.37.0] [-f VALUES.yaml]... [--set K=V]...
    .tools/venv/bin/python scripts/helm.py template CHART [--name N] [--namespace NS] [-f VALUES.yaml]... [--set K=V]...

Offline: no cluster and no network are involved (`lookup` returns nothing).
`template` renders with Helm's default .Capabilities.KubeVersion (v1.36.0 in
Helm 4.2.3): the SDK's render takes no Kubernetes version; `lint` does.
Exit codes: 0 ok; 1 lint found an error (or, with --strict, a warning) or the
chart failed to load or render; 2 bad usage.

`lint` prints like `helm lint`: `[SEVERITY] path: message`, then a summary.
`template` prints like `helm template`: each non-empty manifest after
`---` and `# Source: CHART/templates/FILE`; on failure `Error: ...` on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import helm_python as helm

SEVERITY = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `extra` into `base` (later -f / --set win, as in helm)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def user_values(args: argparse.Namespace) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    for path in args.values:
        merge(values, helm.values_from_yaml(Path(path).read_text()))
    for expression in args.set:
        merge(values, helm.parse_set_string(expression))
    return values or None


def lint(args: argparse.Namespace) -> int:
    report = helm.lint(
        args.chart,
        user_values(args),
        strict=args.strict or None,
        kube_version=args.kube_version,
    )
    print(f"==> Linting {args.chart}")
    failed = bool(report.get("errors"))
    shown = set()
    for message in report.get("messages", []):
        severity = message.get("severity", 0)
        if severity == 3 or (args.strict and severity == 2):
            failed = True
        shown.add(message["error"])
        print(f"[{SEVERITY.get(severity, severity)}] {message['path']}: {message['error']}")
    for error in report.get("errors", []):
        if error not in shown:  # e.g. a missing Chart.yaml: not tied to a message
            print(f"[ERROR] {error}")
    linted = report.get("total_charts_linted", 1)
    print()
    summary = f"{linted} chart(s) linted, {int(failed)} chart(s) failed"
    print(f"Error: {summary}" if failed else summary)
    return 1 if failed else 0


def template(args: argparse.Namespace) -> int:
    with helm.Chart.load(args.chart) as chart:
        manifests = chart.render(user_values(args), name=args.name, namespace=args.namespace)
    for source in sorted(manifests):
        body = manifests[source]
        if source.endswith("NOTES.txt") or not body.strip():
            continue
        print(f"---\n# Source: {source}\n{body.strip()}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="helm.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, run in (("lint", lint), ("template", template)):
        command = commands.add_parser(name)
        command.add_argument("chart", help="chart directory or .tgz")
        command.add_argument("-f", "--values", action="append", default=[], metavar="FILE")
        command.add_argument("--set", action="append", default=[], metavar="K=V")
        command.set_defaults(run=run)
        if name == "lint":
            command.add_argument("--strict", action="store_true", help="warnings fail too")
            command.add_argument("--kube-version", help="e.g. v1.37.0 (.Capabilities.KubeVersion)")
        else:
            command.add_argument("--name", default="release-name")
            command.add_argument("--namespace", default="default")
    args = parser.parse_args()
    try:
        return args.run(args)
    except (helm.HelmError, OSError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
