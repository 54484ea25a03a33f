"""Multi-model serving: several versions in one process by name and
version, lazy loading with a memory limit, clear 404s, immutable artifacts,
and responses that stay backward compatible with module 03's API."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from wine_router.backend import create_app
from wine_router.train import VARIANTS, train_variant


@pytest.fixture
def client(models_dir: Path) -> TestClient:
    return TestClient(create_app(models_dir))


def test_every_version_answers_by_name_and_version(
    client: TestClient, wine: dict[str, float]
) -> None:
    for variant in VARIANTS:
        url = f"/models/{variant.name}/versions/{variant.registry_version}/predict"
        response = client.post(url, json=wine)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["model_version"] == variant.model_version
        assert (body["model_name"], body["registry_version"]) == ("wine", variant.registry_version)
        assert body["class_name"] == "class_0"


def test_the_response_keeps_module_03s_fields(client: TestClient, wine: dict[str, float]) -> None:
    body = client.post("/models/wine/versions/1/predict", json=wine).json()
    # A client written for module 03 reads these four; new fields are only added.
    assert {"class_id", "class_name", "probabilities", "model_version"} <= body.keys()
    assert sum(body["probabilities"].values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/models/wine/versions/9/predict", "model 'wine' has no version '9'; versions: 1, 2, 3"),
        ("/models/beer/versions/1/predict", "no model named 'beer'; models: wine"),
    ],
)
def test_an_unknown_name_or_version_is_a_404_that_says_what_exists(
    client: TestClient, wine: dict[str, float], path: str, message: str
) -> None:
    response = client.post(path, json=wine)
    assert response.status_code == 404
    assert response.json() == {"detail": message}
    assert client.get(path.removesuffix("/predict")).json() == {"detail": message}


def test_the_catalog_lists_versions_without_loading_them(models_dir: Path) -> None:
    app = create_app(models_dir)
    client = TestClient(app)
    listed = client.get("/models").json()
    assert [(m["registry_version"], m["model_version"]) for m in listed] == [
        ("1", "1.0.0"),
        ("2", "1.1.0"),
        ("3", "1.2.0"),
    ]
    assert not any(m["loaded"] for m in listed)
    assert app.state.store.loads == 0
    assert client.get("/ready").json() == {
        "status": "ready",
        "models": ["wine/1", "wine/2", "wine/3"],
    }


def test_models_load_on_first_use_and_the_least_recently_used_is_evicted(
    models_dir: Path, wine: dict[str, float]
) -> None:
    app = create_app(models_dir, max_loaded=2)
    client = TestClient(app)
    store = app.state.store
    for version in ("1", "2", "1", "3"):  # 3 evicts 2 (1 was used more recently)
        assert client.post(f"/models/wine/versions/{version}/predict", json=wine).status_code == 200
    assert store.loads == 3
    assert {m.registry_version for m in store.list() if m.loaded} == {"1", "3"}
    client.post("/models/wine/versions/2/predict", json=wine)  # back: loaded again
    assert store.loads == 4


def test_a_version_published_after_the_start_is_found(
    tmp_path: Path, models_dir: Path, wine: dict[str, float]
) -> None:
    shutil.copytree(models_dir / "wine" / "1", tmp_path / "wine" / "1")
    client = TestClient(create_app(tmp_path))
    assert client.post("/models/wine/versions/2/predict", json=wine).status_code == 404
    shutil.copytree(models_dir / "wine" / "2", tmp_path / "wine" / "2")
    assert client.post("/models/wine/versions/2/predict", json=wine).status_code == 200


def test_an_artifact_changed_after_publishing_is_refused(
    tmp_path: Path, models_dir: Path, wine: dict[str, float]
) -> None:
    shutil.copytree(models_dir / "wine" / "1", tmp_path / "wine" / "1")
    shutil.copyfile(models_dir / "wine" / "3" / "model.joblib", tmp_path / "wine/1/model.joblib")
    response = TestClient(create_app(tmp_path)).post("/models/wine/versions/1/predict", json=wine)
    assert response.status_code == 500
    assert "integrity" in response.json()["detail"]


def test_a_backend_without_models_is_alive_but_not_ready(tmp_path: Path) -> None:
    client = TestClient(create_app(tmp_path))
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").status_code == 503


def test_training_never_overwrites_a_published_version(tmp_path: Path) -> None:
    folder, written = train_variant(VARIANTS[0], tmp_path)
    assert written
    meta = json.loads((folder / "model.json").read_text())
    assert meta["test_accuracy"] >= 0.9
    before = os.stat(folder / "model.joblib").st_mtime_ns
    _, written_again = train_variant(VARIANTS[0], tmp_path)
    assert not written_again
    assert os.stat(folder / "model.joblib").st_mtime_ns == before


def test_preloaded_models_are_in_memory_before_the_first_request(models_dir: Path) -> None:
    app = create_app(models_dir, preload="wine/2")
    with TestClient(app) as client:  # `with` runs the lifespan, which preloads
        assert app.state.store.loads == 1
        listed = {m["registry_version"]: m["loaded"] for m in client.get("/models").json()}
    assert listed == {"1": False, "2": True, "3": False}
