"""The checker against stub tools on a fake PATH: one test per outcome."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import check_workstation
from check_workstation import (
    FAILED,
    MISSING,
    NO_VERSION,
    OK,
    TOO_OLD,
    TOOLS,
    Result,
    Tool,
    check_tool,
    hint_for,
    main,
    stages,
)
from conftest import FakePath

LAB = Path(__file__).resolve().parents[1]
TOOL = {tool.name: tool for tool in TOOLS}


def rows(output: str) -> dict[str, list[str]]:
    """The table's rows by tool name: [found, minimum, status, needed from, hint]."""
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("tool "))
    columns = ("found", "minimum", "status", "needed from", "hint")
    starts = [lines[header].index(column) for column in columns]
    table = {}
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        bounds = [0, *starts, len(line)]
        cells = [line[a:b].strip() for a, b in zip(bounds, bounds[1:], strict=False)]
        table[cells[0]] = cells[1:]
    return table


def stage_verdicts(output: str) -> dict[str, str]:
    """The stage lines: {"module 00": "yes", "modules 01-04": "no: curl, ...", ...}."""
    lines = output.splitlines()
    start = lines.index("By stage (install each tool when you reach its module):")
    verdicts = {}
    for line in lines[start + 1 :]:
        if not line.startswith("  ready for "):
            break
        label, verdict = line[len("  ready for ") :].split(":", 1)
        verdicts[label] = verdict.strip()
    return verdicts


def test_every_tool_found_and_recent(fake_path: FakePath, capsys: pytest.CaptureFixture) -> None:
    fake_path.add_healthy()
    assert main(["--module", "9", "--serve"]) == 0
    out = capsys.readouterr().out
    table = rows(out)
    assert list(table) == [tool.name for tool in TOOLS]
    assert {name: row[2] for name, row in table.items()} == dict.fromkeys(table, OK)
    assert table["python"][0] == "3.12.3"
    assert table["curl"][0] == "8.14.1"
    assert table["docker engine"][0] == "28.2.2"
    assert table["docker buildx"][0] == "0.29.1"
    assert table["docker compose"][0] == "2.39.1"
    assert table["kubectl"][0] == "1.37.0"
    assert table["helm"][0] == "4.0.1"
    assert table["gh"][0] == "2.83.1"
    assert table["prometheus"][0] == "3.8.0"
    assert table["rustc"][0] == "1.91.1"
    assert table["cargo"][3] == "course serve"
    # No install hints when nothing needs installing.
    assert all(row[4] == "" for row in table.values())
    assert "Ready: every tool the whole course and course serve need" in out
    assert set(stage_verdicts(out).values()) == {"yes"}
    assert "optional" not in out.split("By stage")[1]


def test_a_missing_tool_fails_the_check_and_says_how_to_install_it(
    fake_path: FakePath, capsys: pytest.CaptureFixture
) -> None:
    fake_path.add_healthy()
    fake_path.remove("kind")
    assert main(["--os", "macos", "--module", "5"]) == 1
    out = capsys.readouterr().out
    kind = rows(out)["kind"]
    assert kind[0] == "-"
    assert kind[2] == MISSING
    assert kind[3] == "module 05"
    assert kind[4] == "brew install kind"
    assert f"1 of {len(TOOLS)} tools need attention: kind" in out
    assert stage_verdicts(out)["modules 05-06"] == "no: kind"


def test_a_tool_below_the_minimum_is_too_old(
    fake_path: FakePath, capsys: pytest.CaptureFixture
) -> None:
    fake_path.add_healthy()
    fake_path.add("helm", 'printf "v3.16.1+g5a5449d\\n"')
    assert main(["--os", "linux", "--module", "9"]) == 1
    helm = rows(capsys.readouterr().out)["helm"]
    assert helm[:3] == ["3.16.1", "4.0", TOO_OLD]
    assert "get-helm-4" in helm[4]


def test_output_without_a_version_number_is_reported(
    fake_path: FakePath, capsys: pytest.CaptureFixture
) -> None:
    fake_path.add_healthy()
    fake_path.add("kubectl", 'printf "Client Version: unknown\\n"')
    assert main(["--module", "9"]) == 1
    out = capsys.readouterr().out
    assert rows(out)["kubectl"][2] == NO_VERSION
    assert "kubectl (kubectl version --client): printed: Client Version: unknown" in out


def test_a_stopped_docker_engine_fails_with_dockers_own_message(
    fake_path: FakePath, capsys: pytest.CaptureFixture
) -> None:
    # The client works, the engine does not answer: what `docker version`
    # prints and returns when the daemon is stopped (captured from a run).
    fake_path.add_healthy()
    fake_path.add(
        "docker",
        """case "$1" in
  --version) printf "Docker version 28.2.2, build e6534b4\\n" ;;
  buildx) printf "github.com/docker/buildx v0.29.1 a32761aeb3debd39be1eca514af3693af0db334b\\n" ;;
  version) printf "\\n"
    printf "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. \
Is the docker daemon running?\\n" >&2
    exit 1 ;;
  compose) printf "docker: unknown command: docker compose\\n\\n" >&2; exit 1 ;;
esac""",
    )
    assert main(["--os", "wsl", "--module", "1"]) == 1
    out = capsys.readouterr().out
    table = rows(out)
    assert table["docker"][2] == OK
    assert table["docker engine"][2] == FAILED
    # buildx is a client plugin: it answers without the engine.
    assert table["docker buildx"][2] == OK
    assert table["docker compose"][2] == FAILED
    assert "WSL integration" in table["docker engine"][4]
    assert (
        "docker engine (docker version --format {{.Server.Version}}): exit code 1: "
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
        "Is the docker daemon running?"
    ) in out
    assert "exit code 1: docker: unknown command: docker compose" in out


def test_an_engine_older_than_the_minimum_is_told_to_upgrade_not_to_start(
    fake_path: FakePath, capsys: pytest.CaptureFixture
) -> None:
    # A Debian 12 `docker.io` engine answers, but with version 20.10.
    fake_path.add_healthy()
    fake_path.add(
        "docker",
        """case "$1" in
  --version) printf "Docker version 28.2.2, build e6534b4\\n" ;;
  version) printf "20.10.24+dfsg1\\n" ;;
  buildx) printf "github.com/docker/buildx v0.29.1 a32761aeb3debd39be1eca514af3693af0db334b\\n" ;;
  compose) printf "Docker Compose version v2.39.1\\n" ;;
esac""",
    )
    for system, expected in [
        ("linux", "upgrade Docker Engine"),
        ("macos", "update Docker Desktop"),
        ("wsl", "update Docker Desktop on Windows"),
    ]:
        assert main(["--os", system, "--module", "1"]) == 1
        engine = rows(capsys.readouterr().out)["docker engine"]
        assert engine[:3] == ["20.10.24", "25.0", TOO_OLD]
        assert engine[4].startswith("the engine is too old"), engine[4]
        assert expected in engine[4]


def test_each_problem_gets_its_own_kind_of_hint() -> None:
    # No docker at all: install it (not "start it"); no answer: start it.
    engine = TOOL["docker engine"]
    assert "install Docker Engine" in hint_for(Result(engine, MISSING), "linux")
    assert "systemctl start docker" in hint_for(Result(engine, FAILED), "linux")
    assert "too old" in hint_for(Result(engine, TOO_OLD, found="20.10.24"), "linux")
    assert hint_for(Result(engine, OK, found="28.2.2"), "linux") == ""
    # Tools without upgrade hints fall back to their install hint.
    assert hint_for(Result(TOOL["kind"], TOO_OLD), "macos") == "brew install kind"


def test_tools_of_later_modules_are_reported_but_never_fail_the_check(
    fake_path: FakePath, capsys: pytest.CaptureFixture
) -> None:
    # Week 1: Python, uv and git only, no Docker, no Kubernetes tools, no Rust.
    fake_path.add_healthy("python3", "uv", "git")
    assert main([]) == 0
    out = capsys.readouterr().out
    table = rows(out)
    assert table["docker engine"][2] == f"{MISSING} (later)"
    assert table["helm"][2] == f"{MISSING} (later)"
    assert table["cargo"][2] == f"{MISSING} (optional)"
    assert "Ready: every tool module 00 needs is installed and recent enough." in out
    assert stage_verdicts(out) == {
        "module 00": "yes",
        "modules 01-04": "no: curl, docker, docker engine, docker buildx, docker compose",
        "modules 05-06": "no: kubectl, kind, helm, and the tools above",
        "modules 07-09": "no: prometheus, promtool, and the tools above",
        "course serve": "no: rustc, cargo",
    }
    assert "not installed, optional: gh (module 06), amtool (module 07)" in out


def test_the_stages_follow_the_modules_where_tools_are_first_needed() -> None:
    assert stages() == [(0, 0), (1, 4), (5, 6), (7, 9)]


def test_a_stage_needs_the_stages_before_it(
    fake_path: FakePath, capsys: pytest.CaptureFixture
) -> None:
    # Everything but Helm: module 05 is not ready, so module 07 is not either,
    # although its own tools are installed.
    fake_path.add_healthy()
    fake_path.remove("helm")
    assert main(["--module", "4"]) == 0
    verdicts = stage_verdicts(capsys.readouterr().out)
    assert verdicts["modules 01-04"] == "yes"
    assert verdicts["modules 05-06"] == "no: helm"
    assert verdicts["modules 07-09"] == "no: the tools above"
    assert main(["--module", "5"]) == 1


@pytest.mark.parametrize("tool", TOOLS, ids=lambda tool: tool.name)
def test_each_tool_fails_before_it_exists_and_passes_after(
    fake_path: FakePath, capsys: pytest.CaptureFixture, tool: Tool
) -> None:
    fake_path.add_healthy()
    for name in tool.executables:
        if (fake_path.folder / name).exists():
            fake_path.remove(name)
    assert check_tool(tool, os.environ["PATH"]).status == MISSING
    # The whole course and course serve: only an optional tool cannot fail it.
    assert main(["--module", "9", "--serve"]) == (0 if tool.optional else 1)
    assert rows(capsys.readouterr().out)[tool.name][2].startswith(MISSING)
    fake_path.add_healthy()
    assert check_tool(tool, os.environ["PATH"]).status == OK
    assert main(["--module", "9", "--serve"]) == 0


def test_optional_tools_are_reported_but_never_fail(
    fake_path: FakePath, capsys: pytest.CaptureFixture
) -> None:
    fake_path.add_healthy()
    fake_path.remove("gh")
    fake_path.add("amtool", 'printf "amtool, version 0.23.0\\n"')
    assert main(["--module", "9", "--serve", "--os", "macos"]) == 0
    out = capsys.readouterr().out
    table = rows(out)
    assert table["gh"][2:4] == [f"{MISSING} (optional)", "module 06, optional"]
    assert table["gh"][4] == "brew install gh"
    assert table["amtool"][2] == f"{TOO_OLD} (optional)"
    assert "not installed, optional: gh (module 06), amtool (module 07)" in out


def test_the_rust_toolchain_fails_only_with_serve(
    fake_path: FakePath, capsys: pytest.CaptureFixture
) -> None:
    # A distribution's rustc (Debian 13's), older than the course's code needs.
    fake_path.add_healthy()
    fake_path.add("rustc", 'printf "rustc 1.85.0 (4d91de4e4 2025-02-17)\\n"')
    fake_path.add("cargo", 'printf "cargo 1.85.0 (d73d2caf9 2024-12-31)\\n"')
    assert main(["--module", "9", "--os", "linux"]) == 0
    out = capsys.readouterr().out
    assert rows(out)["rustc"][2] == f"{TOO_OLD} (optional)"
    assert stage_verdicts(out)["course serve"] == "no: rustc, cargo"
    assert main(["--serve", "--os", "linux"]) == 1
    out = capsys.readouterr().out
    rustc = rows(out)["rustc"]
    assert rustc[:4] == ["1.85.0", "1.89", TOO_OLD, "course serve"]
    assert rustc[4].startswith("rustup update stable")
    assert f"2 of {len(TOOLS)} tools need attention: rustc, cargo" in out
    assert "Workstation check for module 00 and course serve" in out


def test_an_old_buildx_is_too_old_for_compose(fake_path: FakePath) -> None:
    # Debian 13's own docker-buildx package is 0.13: Compose refuses to build with it.
    fake_path.add("docker", 'printf "github.com/docker/buildx v0.13.1 788433953af10f2a\\n"')
    result = check_tool(TOOL["docker buildx"], os.environ["PATH"])
    assert (result.status, result.found) == (TOO_OLD, "0.13.1")


def test_a_hanging_tool_is_stopped(fake_path: FakePath, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check_workstation, "TIMEOUT_SECONDS", 0.5)
    fake_path.add("kind", "while :; do :; done")
    result = check_tool(TOOL["kind"], os.environ["PATH"])
    assert result.status == FAILED
    assert result.detail == "no answer within 0.5 s"


def test_python_is_also_found_as_python(fake_path: FakePath) -> None:
    # Some systems (Windows, some containers) have `python` but no `python3`.
    fake_path.add("python", 'printf "Python 3.13.1\\n"')
    result = check_tool(TOOL["python"], os.environ["PATH"])
    assert (result.status, result.found) == (OK, "3.13.1")


def test_module_limits_what_must_be_installed(
    fake_path: FakePath, capsys: pytest.CaptureFixture
) -> None:
    # Python, uv and git only: enough for module 00, not for module 01.
    fake_path.add_healthy("python3", "uv", "git")
    assert main(["--module", "0"]) == 0
    out = capsys.readouterr().out
    assert rows(out)["docker"][2] == f"{MISSING} (later)"
    assert "Ready: every tool module 00 needs" in out
    assert main(["--module", "1"]) == 1
    out = capsys.readouterr().out
    assert rows(out)["docker"][2] == MISSING
    assert rows(out)["kind"][2] == f"{MISSING} (later)"
    assert (
        f"5 of {len(TOOLS)} tools need attention: "
        "curl, docker, docker engine, docker buildx, docker compose"
    ) in out


def test_modules_outside_the_course_are_refused(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--module", "12"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        ("linux", "sudo apt install git"),
        ("macos", "xcode-select --install, or: brew install git"),
        ("wsl", "sudo apt install git"),
        ("windows", "wsl --install"),
    ],
)
def test_hints_follow_the_system(
    fake_path: FakePath, capsys: pytest.CaptureFixture, system: str, expected: str
) -> None:
    fake_path.add_healthy()
    fake_path.remove("git")
    main(["--os", system])
    assert expected in rows(capsys.readouterr().out)["git"][4]


def test_every_tool_has_a_hint_for_each_system() -> None:
    for tool in TOOLS:
        for hints in (tool.hints, tool.upgrade_hints, tool.failed_hints):
            if hints is None:
                continue
            assert set(hints) == {"linux", "macos", "wsl"}, tool.name
            assert all(hint.strip() for hint in hints.values()), tool.name


def test_the_script_runs_as_a_program(fake_path: FakePath) -> None:
    """`python3 check_workstation.py` with the stubs: exit code and table."""
    fake_path.add_healthy()
    fake_path.remove("helm")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(LAB / "check_workstation.py"), "--os", "linux", *args],
            capture_output=True,
            text=True,
            env={"PATH": str(fake_path.folder)},
            timeout=60,
            check=False,
        )

    proc = run()
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert rows(proc.stdout)["helm"][2] == f"{MISSING} (later)"
    proc = run("--module", "5")
    assert proc.returncode == 1, proc.stderr
    assert rows(proc.stdout)["helm"][2] == MISSING


def test_save_writes_the_report_it_prints(
    fake_path: FakePath, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    fake_path.add_healthy()
    saved = tmp_path / "report.txt"
    assert main(["--save", str(saved)]) == 0
    printed = capsys.readouterr().out
    assert saved.read_text(encoding="utf-8") == printed
    assert "Ready:" in printed


def test_the_real_python_running_these_tests_passes() -> None:
    """No stub: the interpreter of this test run, found on a PATH of its folder."""
    folder = str(Path(sys.executable).parent)
    result = check_tool(TOOL["python"], folder)
    assert result.status == OK
    assert result.found == "{}.{}.{}".format(*sys.version_info[:3])


def test_the_script_starts_on_older_pythons() -> None:
    """macOS's python3 may be older than 3.11: the script must still run there
    and report it as too old, so it may use no newer syntax."""
    source = (LAB / "check_workstation.py").read_text()
    ast.parse(source, feature_version=(3, 8))
