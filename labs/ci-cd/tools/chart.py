r"""`helm lint` and `helm template` without a helm binary.

Runs Helm's own Go code (Helm 4, from the PyPI package helm-python-sdk) on
the chart, offline, and prints what helm prints. With Helm installed, these
two commands do the same:

    helm lint chart/wine-api --strict
    helm template wine-api chart/wine-api --namespace wine --output-dir rendered

and through this script:

    uv run python tools/chart.py lint chart/wine-api --strict
    uv run python tools/chart.py template wine-api chart/wine-api --namespace wine \
        --output-dir rendered

Both check the values against values.schema.json. Exit codes: 0 ok, 1 the
chart failed (lint errors, or with --strict warnings; a template or value
error), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import helm_python as helm

SEVERITY = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merges `extra` into `base`: later -f files and --set win, as in helm."""
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
    report = helm.lint(args.chart, user_values(args), strict=args.strict or None)
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
        if error not in shown:  # a missing Chart.yaml, say: not tied to one file
            print(f"[ERROR] {error}")
    print()
    linted = report.get("total_charts_linted", 1)
    summary = f"{linted} chart(s) linted, {int(failed)} chart(s) failed"
    print(f"Error: {summary}" if failed else summary)
    return 1 if failed else 0


def template(args: argparse.Namespace) -> int:
    with helm.Chart.load(args.chart) as chart:
        manifests = chart.render(user_values(args), name=args.name, namespace=args.namespace)
    for source in sorted(manifests):
        body = manifests[source].strip()
        if source.endswith("NOTES.txt") or not body:
            continue
        if args.output_dir is None:
            print(f"---\n# Source: {source}\n{body}")
            continue
        # helm's layout: OUTPUT_DIR/CHART_NAME/templates/FILE
        path = Path(args.output_dir) / source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\n# Source: {source}\n{body}\n")
        print(f"wrote {path}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="chart.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, run in (("lint", lint), ("template", template)):
        command = commands.add_parser(name)
        if name == "template":
            command.add_argument("name", help="the release name")
        command.add_argument("chart", help="the chart's folder")
        command.add_argument("-f", "--values", action="append", default=[], metavar="FILE")
        command.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
        if name == "lint":
            command.add_argument("--strict", action="store_true", help="warnings fail too")
        else:
            command.add_argument("--namespace", default="default")
            command.add_argument("--output-dir", metavar="DIR", help="write files, not stdout")
        command.set_defaults(run=run)
    args = parser.parse_args()
    try:
        return args.run(args)
    except (helm.HelmError, OSError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
