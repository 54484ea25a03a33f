#!/usr/bin/env python3
"""Records a failure for a troubleshooting entry's {{#symptom}}: runs the
failing command for real, in a fresh export of the lab, and stores its
output, normalised like a transcript (the export's folder is shown as
~/mlops-course/labs/<lab>, the home folder as ~, the user as `you`).

    verify/failures/record.py --lab monitoring --out 07/port-9090.txt \\
        --hold 9090 -- prometheus --config.file=prometheus.yml

--hold PORT    a process that is not the lab's listens on PORT meanwhile
               (recorded as `# held: PORT`);
--check MSG    the failure is a check's: MSG is its message (`# check:`);
--env K=V      set for the command;
--timeout S    stop the command after S seconds (a server that starts).

The header lines (`# run:`, `# exit:`, `# held:`, `# check:`) are what
course_labs::troubleshoot::parse_recorded reads.
"""

import argparse
import getpass
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("RECORD_WORK", tempfile.gettempdir())) / "course-failures"


def export(lab: str) -> Path:
    """The lab's files in a folder of their own (reused across recordings)."""
    dest = WORK / lab
    if not dest.is_dir():
        WORK.mkdir(parents=True, exist_ok=True)
        course = ROOT / "target" / "debug" / "course"
        subprocess.run([str(course), "--book", str(ROOT / "book"), "lab", "export", lab, str(dest)], check=True,
                       stdout=subprocess.DEVNULL)
    return dest


def normalise(text: str, folder: Path, lab: str) -> str:
    home = str(Path.home())
    text = text.replace(str(folder), f"~/mlops-course/labs/{lab}")
    text = text.replace(str(WORK), "~/mlops-course/labs")
    text = text.replace(str(ROOT), "~/mlops-course")
    text = text.replace(tempfile.gettempdir() + "/", "/tmp/")
    if home not in ("/", ""):
        text = text.replace(home, "~")
    user = getpass.getuser()
    text = re.sub(rf"\b{re.escape(user)}\b", "you", text) if user not in ("", "you") else text
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)  # colours
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lab", required=True)
    ap.add_argument("--out", required=True, help="MODULE/NAME.txt under verify/failures/")
    ap.add_argument("--hold", type=int, action="append", default=[])
    ap.add_argument("--check")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--setup", help="a shell command run first, in the lab's folder (not recorded)")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    command = " ".join(a.command[1:] if a.command[:1] == ["--"] else a.command)
    folder = export(a.lab)
    held = []
    for port in a.hold:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
        held.append(s)
    env = dict(os.environ)
    for kv in a.env:
        k, _, v = kv.partition("=")
        env[k] = v
    if a.setup:
        subprocess.run(["bash", "-c", a.setup], cwd=folder, env=env, check=False)
    proc = subprocess.Popen(["bash", "-c", command], cwd=folder, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=a.timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate()
        code = None
    for s in held:
        s.close()
    header = [f"# run: {command}"]
    if code is not None:
        header.append(f"# exit: {code}")
    header += [f"# held: {p}" for p in a.hold]
    if a.check:
        header.append(f"# check: {a.check}")
    text = normalise(out.decode("utf-8", "replace"), folder, a.lab)
    dest = ROOT / "verify" / "failures" / a.out
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("\n".join(header) + "\n" + text)
    print(dest.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
