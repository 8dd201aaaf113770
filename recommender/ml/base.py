"""What every model class shares: loaded lazily, once per instance, safely across threads; and, for
Keras models, one way to find, load and describe a versioned artefact."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, ClassVar, Self


class LazyModel:
    """Subclasses implement `_load()`; callers use `load()` (idempotent) or any method that calls it.

    Loading happens on first use, never at import, so importing a model module stays cheap and a
    web process that only reads stored results never pays for TensorFlow.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = False

    def load(self) -> Self:
        if self._loaded:
            return self
        with self._lock:
            if not self._loaded:  # another thread may have loaded it while this one waited
                self._load()
                self._loaded = True
        return self

    def _load(self) -> None:
        raise NotImplementedError


CURRENT_FILE_NAME = "CURRENT"


def resolve_artifact_dir(path: str | Path, model_file: str) -> Path:
    """Turn a configured path into a concrete artefact directory (one holding `model_file`).

    Accepts an artefact directory itself, a root holding a ``CURRENT`` file (naming the active
    version), or ``<root>/current``, resolved through ``<root>/CURRENT`` (a text file is more
    portable than a symlink). Anything else is returned as given, so loading it fails with its path.
    """
    path = Path(path)
    if (path / model_file).is_file():
        return path
    for root in (path, path.parent):
        current = root / CURRENT_FILE_NAME
        if current.is_file() and (root == path or path.name == "current"):
            return root / current.read_text(encoding="utf-8").strip()
    return path


class KerasArtifact(LazyModel):
    """A model kept as a versioned Keras artefact directory: ``<root>/<version>/`` with the model file
    and a JSON card, ``<root>/CURRENT`` naming the active version.

    Subclasses name their files and build their inference function from the loaded Keras model in
    `_prepare(model)`; this class resolves the directory, loads the model (lazily, once, under the
    lock) and reads the card. Keras and TensorFlow are imported at load time only.
    """

    model_file: ClassVar[str]
    card_file: ClassVar[str]
    kind: ClassVar[str]  # what the model is, for error messages

    def __init__(self, artifact_dir: str | Path) -> None:
        super().__init__()
        self.artifact_dir = self.resolve(artifact_dir)
        self._card: dict[str, Any] | None = None

    @classmethod
    def resolve(cls, path: str | Path) -> Path:
        return resolve_artifact_dir(path, cls.model_file)

    def _load(self) -> None:
        # Heavy libraries, imported here so that importing a model module stays cheap (web process).
        import keras

        from recommender.ml import layers  # noqa: F401 - registers the custom layers saved models use

        path = self.artifact_dir / self.model_file
        if not path.is_file():
            raise FileNotFoundError(f"no {self.kind} at {path}")
        self._prepare(keras.models.load_model(path, compile=False))

    def _prepare(self, model: Any) -> None:
        """Build what inference needs from the loaded Keras model (called once, under the lock)."""
        raise NotImplementedError

    @property
    def card(self) -> dict[str, Any]:
        """The artefact's card (version, metrics, data, hyper-parameters); empty when it has none."""
        if self._card is None:
            path = self.artifact_dir / self.card_file
            self._card = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        return dict(self._card)

    @property
    def version(self) -> str:
        """The artefact's version (from its card, else its directory name); needs no TensorFlow."""
        return str(self.card.get("version", self.artifact_dir.name))
