"""The one Keras artefact base (recommender.ml.base.KerasArtifact) behind the style model and the autoencoder:
the same `CURRENT` resolution, card reading, versioning and missing-file error, on the shipped artefacts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from recommender.ml.autoencoder import ARTIFACTS_ROOT as AE_ROOT
from recommender.ml.autoencoder import AutoencoderEmbedder
from recommender.ml.base import KerasArtifact
from recommender.ml.preprocess import IMAGE_SIZE
from recommender.ml.style_model import ARTIFACTS_ROOT as STYLE_ROOT
from recommender.ml.style_model import StyleModel

SHIPPED = [(StyleModel, STYLE_ROOT), (AutoencoderEmbedder, AE_ROOT)]


@pytest.mark.parametrize(("cls", "root"), SHIPPED, ids=["style", "autoencoder"])
def test_root_current_and_directory_resolve_to_the_same_version(cls: type[KerasArtifact], root: Path) -> None:
    active = (root / "CURRENT").read_text(encoding="utf-8").strip()
    assert issubclass(cls, KerasArtifact)
    for given in (root, root / "current", root / active):
        model = cls(given)
        assert model.artifact_dir == root / active
        assert (model.artifact_dir / cls.model_file).is_file()
        assert model._forward is None if cls is StyleModel else model._encode is None  # nothing loaded yet
    card = json.loads((root / active / cls.card_file).read_text(encoding="utf-8"))
    assert cls(root).card == card
    assert cls(root).version == card.get("version", active)


@pytest.mark.parametrize("cls", [StyleModel, AutoencoderEmbedder], ids=["style", "autoencoder"])
def test_missing_model_is_a_clear_error_naming_the_kind(cls: type[KerasArtifact], tmp_path: Path) -> None:
    (tmp_path / "CURRENT").write_text("v-missing\n")
    model = cls(tmp_path)
    assert model.artifact_dir == tmp_path / "v-missing"
    assert model.card == {} and model.version == "v-missing"  # no card: the directory names the version
    with pytest.raises(FileNotFoundError, match=f"no {cls.kind} at .*v-missing"):
        model.load()


@pytest.mark.slow
def test_autoencoder_loads_through_the_base_and_embeds(tmp_path: Path) -> None:
    """A copy of the shipped autoencoder under a new root: found through CURRENT, loaded once, used."""
    active = (AE_ROOT / "CURRENT").read_text(encoding="utf-8").strip()
    shutil.copytree(AE_ROOT / active, tmp_path / "v1")
    (tmp_path / "CURRENT").write_text("v1\n")
    model = AutoencoderEmbedder(tmp_path)
    embeddings = model.embed(np.random.default_rng(0).uniform(0, 255, (2, IMAGE_SIZE, IMAGE_SIZE, 3)))
    assert embeddings.shape[0] == 2
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    encode = model._encode
    model.load()
    assert model._encode is encode  # loaded once
