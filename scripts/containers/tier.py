"""The container tier: every lab Dockerfile built and run to healthy, every
compose file brought up and torn down, against the private engine.

    scripts/containers/test.sh            # starts the engine, builds stand-ins, runs this, stops the engine
    python3 scripts/containers/tier.py    # this alone, with DOCKER_HOST etc. from `engine.sh env`

For each lab that has a Dockerfile or a compose file:
  - a learner's copy is written with `course lab export` (the build context is
    what a learner has, not the repository's folder);
  - each Dockerfile is built with BuildKit, its image run until its
    HEALTHCHECK reports healthy, and its user checked to be non-root (the
    image's configured USER and `id -u` inside the running container);
  - each compose file is brought up with `docker compose up --build --wait`,
    the endpoints its services publish are asked, and `down --volumes` must
    leave no container, network or volume of the project behind.
A file labs.py lists in NOT_BUILT (the GPU variant: no NVIDIA base image and no
GPU here) is not built; it gets a `NOT BUILT` line with the reason and its own
count in the summary, never a pass.
One line per image or compose file, `pass|FAIL|NOT BUILT  LAB  WHAT  seconds`,
then a summary; the exit status is 1 if anything failed.

Names never collide with a learner's: images are tagged mlops-course-test/...,
containers and compose projects are named mlops-course-test-<lab>..., and
published ports are moved to free ones (a learner's service may hold 8000).
Standard library only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import labs as labfiles  # noqa: E402  (the sibling module that finds the labs' files)

ROOT = labfiles.ROOT
PREFIX = "mlops-course-test"
HEALTH_TIMEOUT_CAP = 300  # seconds: no image of the course needs longer to become healthy
# A Dockerfile that COPYs something a learner makes first: the command that
# makes it, and the line of the lab's lab.yaml that tells the learner to run it
# (checked to be there, so the two cannot drift apart silently).
PREPARE = {
    ("ci-cd", "Dockerfile"): (
        ["uv", "run", "--locked", "--no-default-groups", "python", "-m", "wine_api.train"],
        "run: uv run python -m wine_api.train",
    ),
}
# Images that run as root on purpose. The naive Dockerfile is the lab's
# counter-example (no USER, no HEALTHCHECK) that compare_images.py measures.
ROOT_BY_DESIGN = {
    ("docker-basics", "Dockerfile.naive"): "the lab's counter-example, no USER on purpose",
}


@dataclass
class Result:
    ok: bool  # for a file that was not built: False, and not_built says why
    lab: str
    what: str
    seconds: float
    notes: list[str] = field(default_factory=list)
    detail: str = ""
    not_built: bool = False


class Failed(Exception):
    """A check failed: the message says which; detail carries logs."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


def sh(cmd: list[str], cwd: Path | None = None, timeout: float = 1800, check: bool = True) -> str:
    try:
        done = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise Failed(f"`{' '.join(cmd)}` took more than {timeout:.0f} s", str(e.output or "")) from e
    if check and done.returncode != 0:
        raise Failed(
            f"`{' '.join(cmd)}` exited {done.returncode}",
            tail(done.stdout + done.stderr, 60),
        )
    return done.stdout


def tail(text: str, lines: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 5) -> int:
    """The HTTP status of a GET; -1 if nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return -1


def export(lab: str, dest: Path) -> None:
    """A learner's copy of the lab: what `course lab export` writes."""
    if os.environ.get("MLOPS_CONTAINERS_EXPORT") == "git" and os.environ.get("CI") != "true":
        # Only for working on this tier while the lab catalog does not load (a
        # manifest mid-edit): the lab's tracked files, which may differ from
        # the export's file list. CI always exports.
        print(f"warning: {lab}: copying git's tracked files instead of `course lab export`", file=sys.stderr)
        files = sh(["git", "ls-files", "-z", f"labs/{lab}"], cwd=ROOT).split("\0")
        for f in filter(None, files):
            target = dest / Path(f).relative_to(f"labs/{lab}")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, target)
        return
    sh([str(course_binary()), "lab", "export", lab, str(dest)], cwd=ROOT)


_COURSE: list[Path] = []


def course_binary() -> Path:
    """The `course` CLI, built once per run: `cargo run` per lab would rebuild
    it whenever a source changed in between (others edit the crates).
    MLOPS_COURSE_BIN names an already built one instead."""
    if not _COURSE and os.environ.get("MLOPS_COURSE_BIN"):
        _COURSE.append(Path(os.environ["MLOPS_COURSE_BIN"]))
    if not _COURSE:
        sh(["cargo", "build", "-q", "-p", "course"], cwd=ROOT, timeout=1800)
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        _COURSE.append(target / "debug" / "course")
    return _COURSE[0]


def prepare(lab: str, name: str, ctx: Path) -> None:
    step = PREPARE.get((lab, name))
    if step is None:
        return
    cmd, manifest_line = step
    if manifest_line not in (ROOT / "labs" / lab / "lab.yaml").read_text():
        raise Failed(f"labs/{lab}/lab.yaml no longer has `{manifest_line}`: update PREPARE in tier.py")
    uv = ROOT / ".tools" / "venv" / "bin" / "uv"
    if uv.exists():
        cmd = [str(uv), *cmd[1:]]
    sh(cmd, cwd=ctx, timeout=900)


def inspect(kind: str, name: str) -> dict:
    return json.loads(sh(["docker", kind, "inspect", name]))[0]


def seconds(nanos: int | None, default: float) -> float:
    return nanos / 1e9 if nanos else default


def health_timeout(check: dict) -> float:
    """Long enough for the check's own schedule to report healthy, bounded."""
    interval = seconds(check.get("Interval"), 30)
    start_period = seconds(check.get("StartPeriod"), 0)
    retries = check.get("Retries") or 3
    return min(HEALTH_TIMEOUT_CAP, start_period + interval * (retries + 1) + 30)


def wait_healthy(container: str, timeout: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        state = inspect("container", container)["State"]
        if not state["Running"]:
            raise Failed(f"the container exited with code {state['ExitCode']} before it was healthy")
        status = state.get("Health", {}).get("Status")
        if status == "healthy":
            return time.monotonic() - t0
        if status == "unhealthy":
            raise Failed("its HEALTHCHECK reports unhealthy")
        time.sleep(1)
    raise Failed(f"not healthy after {timeout:.0f} s")


def wait_answers(url: str, timeout: float) -> int:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        status = http_get(url)
        if status > 0:
            return status
        time.sleep(1)
    raise Failed(f"{url} did not answer within {timeout:.0f} s")


def container_report(container: str) -> str:
    """docker logs and the health log: what a failure needs to be understood."""
    logs = subprocess.run(["docker", "logs", "--tail", "40", container], capture_output=True, text=True)
    out = f"--- docker logs {container} (last 40 lines)\n{tail(logs.stdout + logs.stderr, 40)}"
    try:
        health = inspect("container", container)["State"].get("Health")
    except Failed:
        health = None
    if health:
        entries = [f"exit {h['ExitCode']}: {h['Output'].strip()}" for h in health.get("Log", [])]
        out += "\n--- health log\n" + "\n".join(entries[-5:])
    return out


def non_root(user: str) -> bool:
    name = user.split(":")[0]
    return name not in ("", "0", "root")


def image_test(lab: str, dockerfile: Path, ctx: Path) -> Result:
    name = dockerfile.name
    t0 = time.monotonic()
    notes: list[str] = []
    slug = f"{lab}-{name.lower().replace('.', '-')}"
    tag = f"{PREFIX}/{slug}:tier"
    container = f"{PREFIX}-{slug}"
    sh(["docker", "rm", "-f", container], check=False)
    try:
        prepare(lab, name, ctx)
        b0 = time.monotonic()
        sh(["docker", "build", "--progress=plain", "-f", str(ctx / name), "-t", tag, str(ctx)])
        notes.append(f"built {time.monotonic() - b0:.0f}s")
        config = inspect("image", tag)["Config"]
        exposed = sorted(int(p.split("/")[0]) for p in (config.get("ExposedPorts") or {}))
        publish = [a for p in exposed for a in ("-p", f"127.0.0.1::{p}")]
        sh(["docker", "run", "-d", "--name", container, "--label", f"{PREFIX}={lab}", *publish, tag])
        try:
            check = config.get("Healthcheck")
            if check and check.get("Test") and check["Test"][0] != "NONE":
                took = wait_healthy(container, health_timeout(check))
                notes.append(f"healthy {took:.0f}s")
            elif exposed:
                # No HEALTHCHECK to wait for: the least a running image must do is answer.
                port = sh(["docker", "port", container, str(exposed[0])]).split()[0].rsplit(":", 1)[1]
                status = wait_answers(f"http://127.0.0.1:{port}/", 120)
                notes.append(f"no HEALTHCHECK, :{exposed[0]} answers HTTP {status}")
            else:
                raise Failed("no HEALTHCHECK and no EXPOSEd port: nothing shows it works")
            uid = sh(["docker", "exec", container, "id", "-u"]).strip()
            why_root = ROOT_BY_DESIGN.get((lab, name))
            if why_root:
                if non_root(config.get("User") or "") or uid != "0":
                    raise Failed(f"listed as root by design ({why_root}) but runs as {uid}: update ROOT_BY_DESIGN")
                notes.append(f"root by design ({why_root})")
            else:
                if not non_root(config.get("User") or ""):
                    raise Failed(f"the image's USER is {config.get('User')!r}: it runs as root")
                if uid == "0":
                    raise Failed("`id -u` inside the container is 0")
                notes.append(f"user {config['User']}, id -u {uid}")
        except Failed as e:
            e.detail = (e.detail + "\n" if e.detail else "") + container_report(container)
            raise
        finally:
            sh(["docker", "rm", "-f", container], check=False)
        return Result(True, lab, name, time.monotonic() - t0, notes)
    except Failed as e:
        return Result(False, lab, name, time.monotonic() - t0, [*notes, str(e)], e.detail)


def probe_path(service: dict, image_check: dict | None, target: int) -> str | None:
    """The path the service's own healthcheck asks on `target`, if it asks one."""
    test = (service.get("healthcheck") or {}).get("test") or (image_check or {}).get("Test") or []
    m = re.search(rf"https?://(?:127\.0\.0\.1|localhost):{target}(/[^'\"\s,)]*)?", " ".join(test))
    return (m.group(1) or "/") if m else None


def project_leftovers(project: str) -> list[str]:
    left = []
    flt = f"label=com.docker.compose.project={project}"
    for kind, cmd in (
        ("container", ["docker", "ps", "-aq", "--filter", flt]),
        ("network", ["docker", "network", "ls", "-q", "--filter", flt]),
        ("volume", ["docker", "volume", "ls", "-q", "--filter", flt]),
    ):
        left += [f"{kind} {i}" for i in sh(cmd).split()]
    return left


def compose_test(lab: str, compose: Path, ctx: Path) -> Result:
    t0 = time.monotonic()
    notes: list[str] = []
    project = f"{PREFIX}-{lab}"
    file = ctx / compose.name
    base = ["docker", "compose", "-p", project, "-f", str(file)]
    try:
        config = json.loads(sh([*base, "config", "--format", "json"]))
        # Same file, published ports moved to free ones: written as an override
        # so the lab's file is used as it is. `!override` replaces the list
        # instead of appending to it.
        lines = ["services:"]
        endpoints: list[tuple[str, int, int]] = []  # service, target, host port
        for svc_name, svc in config["services"].items():
            ports = svc.get("ports") or []
            if not ports:
                continue
            lines += [f"  {svc_name}:", "    ports: !override"]
            for p in ports:
                host = free_port()
                lines.append(f'      - "127.0.0.1:{host}:{p["target"]}"')
                endpoints.append((svc_name, int(p["target"]), host))
        override = ctx / f".{PREFIX}.override.yaml"
        override.write_text("\n".join(lines) + "\n" if endpoints else "services: {}\n")
        cmd = [*base, "-f", str(override)]
        u0 = time.monotonic()
        try:
            sh([*cmd, "up", "--build", "--wait", "--wait-timeout", str(HEALTH_TIMEOUT_CAP)])
            notes.append(f"up --build --wait {time.monotonic() - u0:.0f}s")
            for svc_name, target, host in endpoints:
                svc = config["services"][svc_name]
                image_check = None
                if not svc.get("healthcheck") and svc.get("image"):
                    image_check = inspect("image", svc["image"])["Config"].get("Healthcheck")
                path = probe_path(svc, image_check, target)
                url = f"http://127.0.0.1:{host}{path or '/'}"
                status = http_get(url)
                if status < 0 or (path and not 200 <= status < 300):
                    raise Failed(f"{svc_name}'s published port {target} ({url}) answered {status}")
                notes.append(f"{svc_name}:{target}{path or '/'} {status}")
        except Failed as e:
            ps = subprocess.run([*cmd, "ps", "-a"], capture_output=True, text=True).stdout
            logs = subprocess.run([*cmd, "logs", "--tail", "30"], capture_output=True, text=True)
            e.detail = f"{e.detail}\n--- compose ps\n{ps}\n--- compose logs\n{tail(logs.stdout + logs.stderr, 60)}"
            raise
        finally:
            sh([*cmd, "down", "--volumes", "--remove-orphans"], check=False, timeout=120)
        left = project_leftovers(project)
        if left:
            raise Failed(f"`down --volumes` left {', '.join(left)}")
        notes.append("down --volumes left nothing")
        return Result(True, lab, compose.name, time.monotonic() - t0, notes)
    except Failed as e:
        return Result(False, lab, compose.name, time.monotonic() - t0, [*notes, str(e)], e.detail)


def main() -> int:
    if not os.environ.get("DOCKER_HOST", "").startswith("unix://"):
        print('tier.py: DOCKER_HOST is not set: eval "$(scripts/containers/engine.sh env)"', file=sys.stderr)
        return 2
    by_lab: dict[str, list[labfiles.LabFile]] = {}
    for f in labfiles.lab_files():
        by_lab.setdefault(f.lab, []).append(f)
    results: list[Result] = []
    t_all = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}-") as tmp:
        for lab, files in by_lab.items():
            ctx = Path(tmp) / lab
            try:
                e0 = time.monotonic()
                export(lab, ctx)
                print(f"      {lab}: exported in {time.monotonic() - e0:.1f}s", flush=True)
            except Failed as e:
                results.append(Result(False, lab, "export", 0, [str(e)], e.detail))
                report(results[-1])
                continue
            # Dockerfiles first: a compose file's build then reuses their cache.
            for f in sorted(files, key=lambda f: (f.kind != "dockerfile", f.path.name)):
                rel = f.path.relative_to(ROOT / "labs" / lab)
                if f.not_built:
                    results.append(Result(False, lab, str(rel), 0, [f.not_built], not_built=True))
                elif len(rel.parts) != 1:
                    results.append(Result(False, lab, str(rel), 0, ["only files at a lab's top level are supported"]))
                elif not (ctx / rel).exists():
                    results.append(Result(False, lab, str(rel), 0, ["`course lab export` did not write it"]))
                elif f.kind == "dockerfile":
                    results.append(image_test(lab, f.path, ctx))
                else:
                    results.append(compose_test(lab, f.path, ctx))
                report(results[-1])
    passed = [r for r in results if r.ok]
    not_built = [r for r in results if r.not_built]
    failed = [r for r in results if not r.ok and not r.not_built]
    # A file that cannot be built here is neither passed nor failed: it is
    # counted apart, with its reason on its own line above.
    print(
        f"containers: {len(passed)} passed, {len(failed)} failed, {len(not_built)} not built "
        f"in {time.monotonic() - t_all:.0f}s"
    )
    return 1 if failed else 0


def report(r: Result) -> None:
    status = "pass" if r.ok else "NOT BUILT" if r.not_built else "FAIL"
    print(f"{status:<4}  {r.lab:<14} {r.what:<18} {r.seconds:6.1f}s  {'; '.join(r.notes)}", flush=True)
    if not r.ok and r.detail:
        print("    " + r.detail.replace("\n", "\n    "), flush=True)


if __name__ == "__main__":
    sys.exit(main())
