"""The W&B variant, offline: no account, no network, files a later `wandb sync` uploads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import joblib
import pytest
import wandb

from wine_tracking.data import split
from wine_tracking.train_wandb import train_wandb


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("wandb")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("WANDB_MODE", "offline")
        env.setenv("WANDB_DIR", str(home))  # the runs: $WANDB_DIR/wandb/offline-run-*
        # Staged artifacts, caches and settings, which default to your home folder.
        for name in ("WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR"):
            env.setenv(name, str(home / name.lower()))
        env.delenv("WANDB_API_KEY", raising=False)
        run_dir = train_wandb(0.5)
        wandb.teardown()  # stop W&B's background service process
    return run_dir


def test_the_offline_run_is_written_under_wandb_dir(offline_run: Path) -> None:
    assert offline_run.parent.name == "wandb"
    assert offline_run.name.startswith("offline-run-")
    run_id = offline_run.name.rsplit("-", 1)[1]
    records = offline_run / f"run-{run_id}.wandb"  # everything logged, for `wandb sync`
    assert records.is_file()
    assert records.stat().st_size > 0
    assert (offline_run.parent / "latest-run").resolve() == offline_run.resolve()


def test_the_run_captured_the_script_output(offline_run: Path) -> None:
    output = (offline_run / "files" / "output.log").read_text()
    assert "offline run " in output
    assert "'test_log_loss': " in output


def test_artifacts_are_staged_for_upload(offline_run: Path) -> None:
    """Offline, logged artifacts wait in $WANDB_DATA_DIR (by default under
    ~/.local/share/wandb) until `wandb sync` uploads them."""
    staging = offline_run.parent.parent / "wandb_data_dir" / "artifacts" / "staging"
    staged = [p for p in staging.rglob("*") if p.is_file()]
    assert len(staged) == 2  # the dataset CSV and the model, under temporary names
    [csv] = [p for p in staged if p.read_bytes().startswith(b"alcohol,malic_acid,")]
    assert len(csv.read_text().splitlines()) == 1 + 133  # header + the training rows
    [model_file] = [p for p in staged if p != csv]
    pipeline = joblib.load(model_file)  # our own file from this test: safe to unpickle
    assert list(pipeline.predict(split().x_test.head(3))) == list(split().y_test.head(3))


def test_wandb_sync_would_upload_the_run(offline_run: Path) -> None:
    wandb_cli = Path(sys.executable).parent / "wandb"
    done = subprocess.run(
        [str(wandb_cli), "sync", "--dry-run", str(offline_run)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Would sync 1 run(s)" in done.stdout + done.stderr
