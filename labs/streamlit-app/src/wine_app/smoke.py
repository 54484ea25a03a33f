"""Smoke-test the app against the API it is configured for.

Runs the app's script once, as a browser session would, with Streamlit's
AppTest (no browser, no server), presses Predict with the form's defaults and
prints what the page shows. Run it from the lab folder:

    uv run python -m wine_app.smoke

It finds the API like the app does (WINE_API_URL, then secrets, then
http://127.0.0.1:8000). Exit status 0: the page shows the API's prediction;
1: the page shows errors, printed here; 2: no app file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=Path("streamlit_app.py"))
    parser.add_argument("--timeout", type=float, default=120, help="seconds per script run")
    args = parser.parse_args(argv)
    if not args.app.is_file():
        print(f"{args.app} not found: run this from the lab folder", file=sys.stderr)
        return 2

    # AppTest outside a server logs "missing ScriptRunContext! This warning can
    # be ignored when running in bare mode." Bare mode is what this is.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(
        logging.ERROR
    )
    # Absolute: AppTest resolves a relative path against the calling module.
    at = AppTest.from_file(str(args.app.resolve()), default_timeout=args.timeout).run()
    if not at.exception and at.form_submit_button:
        at = at.form_submit_button[0].click().run()
    problems = [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    if problems or "Predicted class" not in metrics:
        print("The app shows no prediction:", file=sys.stderr)
        for problem in problems or ["(no error either: is this the wine app?)"]:
            print(f"- {problem}", file=sys.stderr)
        return 1
    source = next((c.value for c in at.caption if c.value.startswith("Answered by")), "")
    print(f"Predicted {metrics['Predicted class']} ({metrics['Probability']}). {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
