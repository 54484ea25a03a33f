"""A model store for multi-model serving: many (name, version) pairs in one
process, each loaded on first use and evicted when too many are in memory.

The catalog (which versions exist) is read from the metadata files only, so
listing models is cheap and a backend starts in a second even with hundreds
of versions on disk. A pipeline is unpickled the first time it is asked for;
at most `max_loaded` stay in memory, the least recently used goes first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from wine_router.schemas import FEATURES, ModelInfo, PredictionResponse, WineFeatures

logger = logging.getLogger("wine_router.store")


def sha256_of(path: Path) -> str:
    """The artifact's SHA-256: recorded when a version is published, checked on load."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


class UnknownModelError(LookupError):
    """No such model name, or no such version of it. The message says what exists."""


class CorruptModelError(Exception):
    """The artifact on disk does not match the hash recorded when it was published."""


@dataclass(frozen=True)
class Entry:
    """One published model version, as its metadata file describes it."""

    folder: Path
    metadata: dict[str, Any]

    @property
    def info(self) -> dict[str, Any]:
        m = self.metadata
        return {
            "name": m["name"],
            "registry_version": m["registry_version"],
            "model_version": m["model_version"],
            "algorithm": m["algorithm"],
            "test_accuracy": m["test_accuracy"],
            "sha256": m["sha256"],
        }


@dataclass(frozen=True)
class LoadedModel:
    entry: Entry
    pipeline: Any

    def predict(self, wines: Sequence[WineFeatures]) -> list[PredictionResponse]:
        m = self.entry.metadata
        x = np.array([[getattr(w, f) for f in FEATURES] for w in wines], dtype=np.float64)
        probabilities = self.pipeline.predict_proba(x)
        labels = [int(c) for c in self.pipeline.classes_]
        names = m["class_names"]
        out = []
        for row in probabilities:
            best = int(np.argmax(row))
            out.append(
                PredictionResponse(
                    class_id=labels[best],
                    class_name=names[labels[best]],
                    probabilities={
                        names[label]: float(p) for label, p in zip(labels, row, strict=True)
                    },
                    model_version=m["model_version"],
                    model_name=m["name"],
                    registry_version=m["registry_version"],
                )
            )
        return out


class ModelStore:
    """Thread-safe: FastAPI runs plain `def` endpoints in a thread pool."""

    def __init__(self, models_dir: Path, max_loaded: int = 2) -> None:
        if max_loaded < 1:
            raise ValueError("max_loaded must be at least 1")
        self.models_dir = Path(models_dir)
        self.max_loaded = max_loaded
        self._lock = threading.Lock()
        self._catalog: dict[tuple[str, str], Entry] = {}
        self._loaded: OrderedDict[tuple[str, str], LoadedModel] = OrderedDict()
        self.loads = 0  # how many times an artifact was unpickled (tests read it)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the catalog: a version published since the start becomes
        visible; a loaded version is never reloaded (versions are immutable)."""
        catalog: dict[tuple[str, str], Entry] = {}
        for meta_path in sorted(self.models_dir.glob("*/*/model.json")):
            try:
                metadata = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                logger.warning("skipping %s: %s", meta_path, exc)
                continue
            if metadata.get("feature_names") != FEATURES:
                logger.warning("skipping %s: its features are not this API's", meta_path)
                continue
            key = (metadata["name"], metadata["registry_version"])
            catalog[key] = Entry(meta_path.parent, metadata)
        with self._lock:
            self._catalog = catalog

    def names(self) -> list[str]:
        return sorted({name for name, _ in self._catalog})

    def versions(self, name: str) -> list[str]:
        return sorted((v for n, v in self._catalog if n == name), key=_version_key)

    def list(self) -> list[ModelInfo]:
        with self._lock:
            keys = sorted(self._catalog, key=lambda k: (k[0], _version_key(k[1])))
            return [ModelInfo(**self._catalog[k].info, loaded=k in self._loaded) for k in keys]

    def entry(self, name: str, version: str) -> Entry:
        """The catalog entry, or UnknownModelError naming what exists."""
        key = (name, version)
        if key not in self._catalog:
            self.refresh()  # maybe it was published after the start
        if key in self._catalog:
            return self._catalog[key]
        if name not in self.names():
            available = ", ".join(self.names()) or "none"
            raise UnknownModelError(f"no model named {name!r}; models: {available}")
        available = ", ".join(self.versions(name))
        raise UnknownModelError(f"model {name!r} has no version {version!r}; versions: {available}")

    def get(self, name: str, version: str) -> LoadedModel:
        """The loaded model, unpickling it on first use (lazy loading)."""
        entry = self.entry(name, version)
        key = (name, version)
        with self._lock:
            model = self._loaded.get(key)
            if model is not None:
                self._loaded.move_to_end(key)  # most recently used
                return model
            # Loading under the lock: two requests for a cold model load it once.
            artifact = entry.folder / "model.joblib"
            if sha256_of(artifact) != entry.metadata["sha256"]:
                raise CorruptModelError(
                    f"{artifact} does not match the SHA-256 it was published with"
                )
            # joblib files are pickles: loading one runs code from it. Only
            # load artifacts you produced, and check their hash first.
            model = LoadedModel(entry, joblib.load(artifact))
            self.loads += 1
            self._loaded[key] = model
            while len(self._loaded) > self.max_loaded:
                evicted, _ = self._loaded.popitem(last=False)
                logger.info("evicted %s/%s (max_loaded=%d)", *evicted, self.max_loaded)
            logger.info("loaded %s/%s from %s", name, version, artifact)
            return model


def _version_key(version: str) -> tuple[int, str]:
    """Registry versions are numbers: 10 sorts after 9."""
    return (int(version), "") if version.isdigit() else (1 << 62, version)
