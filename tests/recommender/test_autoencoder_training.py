"""The autoencoder's training (recommender.training.autoencoder) on real demo paintings, and the
shared batched loader behind the style model's file path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from recommender.ml.autoencoder import AE_SIZE, AutoencoderEmbedder, downscale
from recommender.ml.preprocess import load_batch
from recommender.training.data import read_paintings

DEMO = settings.DEMO_CATALOGUE_DIR

pytestmark = pytest.mark.slow


def _demo_paths(n: int) -> list[Path]:
    return [p.path for p in read_paintings(DEMO)[:n]]


def test_decode_small_matches_decoding_then_the_shared_resize() -> None:
    from recommender.training.autoencoder import decode_small

    paths = _demo_paths(7)
    small = decode_small(paths, batch=3)  # three batches, the last one short
    assert small.shape == (7, AE_SIZE, AE_SIZE, 3)
    np.testing.assert_allclose(small, downscale(load_batch(paths)), atol=1e-6)


def test_training_writes_an_artefact_the_embedder_loads(tmp_path: Path) -> None:
    """A one-epoch smoke run on demo paintings of the style split's TRAIN part; the inference class
    loads what it wrote through CURRENT and embeds with the pooling the card chose."""
    from recommender.evaluation import load_split
    from recommender.training.autoencoder import train_autoencoder

    messages: list[str] = []
    target = train_autoencoder(
        DEMO, tmp_path, epochs=1, limit=24, max_minutes=None, version="smoke", progress=messages.append
    )
    assert target == tmp_path / "smoke"
    assert (tmp_path / "CURRENT").read_text(encoding="utf-8").strip() == "smoke"
    card = json.loads((target / "card.json").read_text(encoding="utf-8"))
    assert card["data"]["train_images"] == 24 and card["hyper_parameters"]["epochs"] == 1
    split, _ = load_split()
    assert card["data"]["val_images"] == len({p.id for p in read_paintings(DEMO)} & set(split["val"]))
    assert any(m.startswith("epoch 1/1") for m in messages)

    model = AutoencoderEmbedder(tmp_path)
    assert model.version == "smoke" and model.pooling == card["pooling"]
    embeddings = model.embed(load_batch(_demo_paths(3)))
    assert embeddings.shape == (3, card["embedding_dim"])
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


def test_files_path_equals_one_forward_pass_over_the_decoded_images(style_model) -> None:
    """predict_and_embed_files (prefetching loader, several batches) == predict_and_embed of the same pixels."""
    paths = _demo_paths(5)
    probs, embeddings = style_model.predict_and_embed_files(paths, batch_size=2)
    want_probs, want_embeddings = style_model.predict_and_embed(load_batch(paths))
    np.testing.assert_allclose(probs, want_probs, atol=1e-5)
    np.testing.assert_allclose(embeddings, want_embeddings, atol=1e-5)
    empty_probs, empty_embeddings = style_model.predict_and_embed_files([])
    assert empty_probs.shape == (0, len(style_model.classes)) and empty_embeddings.shape == (0, 1280)


def test_command_refuses_a_folder_without_a_catalogue(tmp_path: Path) -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=r"no catalogue\.csv"):
        call_command("train_autoencoder", "--data", str(tmp_path), "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
