"""The versioned artefact directory a training run writes, and the tiny one tests use.

``<root>/<version>/`` holds ``model.keras``, ``classes.json``, ``split.json``, ``model_card.json``
and the plots; ``<root>/CURRENT`` names the active version (read by ``recommender.ml``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recommender.ml.style_model import CURRENT_FILE_NAME, MODEL_FILE_NAME
from recommender.training.network import BACKBONE_LABEL, assemble_style_network, default_backbone_path, make_head


def write_artifact(out_dir: Path, *, model: Any, classes: Sequence[str], split_json: str, card: dict[str, Any]) -> Path:
    """Write a version directory (which may hold the run's ``checkpoint/`` already); refuses to
    overwrite a finished one."""
    if (out_dir / MODEL_FILE_NAME).exists():
        raise FileExistsError(f"{out_dir} already holds a model")
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(out_dir / MODEL_FILE_NAME)
    (out_dir / "classes.json").write_text(json.dumps(list(classes), indent=1), encoding="utf-8")
    (out_dir / "split.json").write_text(split_json, encoding="utf-8")
    (out_dir / "model_card.json").write_text(json.dumps(card, indent=1), encoding="utf-8")
    return out_dir


def activate_artifact(out_root: Path, version: str) -> None:
    """Point ``<out_root>/CURRENT`` at ``version`` (a text file, more portable than a symlink)."""
    (out_root / CURRENT_FILE_NAME).write_text(version + "\n", encoding="utf-8")


def build_tiny_artifact(out_dir: str | Path, classes: Sequence[str]) -> Path:
    """A valid artefact for fast tests, in seconds, without training.

    Real EfficientNet-Lite0 backbone + a randomly initialised softmax head over ``classes``; same
    files and same :class:`~recommender.ml.style_model.StyleModel` code path as a trained one.
    """
    import keras

    out_dir = Path(out_dir)
    keras.utils.set_random_seed(0)
    backbone = keras.models.load_model(default_backbone_path(), compile=False)
    card = {
        "version": f"tiny-{out_dir.name}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "backbone": BACKBONE_LABEL,
        "classes": list(classes),
        "note": "untrained head (random); for tests only",
    }
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if out_dir.exists() and not any(out_dir.iterdir()):
        out_dir.rmdir()  # pytest's mktemp makes the directory; write_artifact wants a new one
    return write_artifact(
        out_dir,
        model=assemble_style_network(backbone, make_head(len(classes))),
        classes=classes,
        split_json=json.dumps({"train": [], "val": [], "test": []}),
        card=card,
    )
