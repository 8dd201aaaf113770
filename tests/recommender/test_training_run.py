"""The training run on a tiny real subset: resume, the statistics features, the catalogue vote."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from django.conf import settings
from PIL import Image, ImageFilter

from recommender.ml.preprocess import load_image, to_model_input
from recommender.ml.vote import VoteConfig, neighbour_vote, vote_for
from recommender.training.data import Painting, make_split, perceptual_hashes, read_paintings
from recommender.training.loop import TrainConfig, train_style_model
from recommender.training.neighbours import index_items

DEMO = Path(settings.DEMO_CATALOGUE_DIR)


class Interrupted(Exception):
    pass


def _weights(path: Path) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def _config(root: Path, cache: Path, version: str, *, resume: bool = False) -> TrainConfig:
    return TrainConfig(
        data_dir=DEMO,
        out_root=root,
        cache_dir=cache,
        limit=90,
        train_views=2,
        head="mlp-stats",
        hidden=64,
        head_epochs=1,
        epochs=3,
        patience=5,
        batch=16,
        activate=False,
        version=version,
        resume=resume,
    )


@pytest.mark.slow
def test_resume_gives_the_weights_of_an_uninterrupted_run(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    whole = train_style_model(_config(tmp_path, cache, "whole"), progress=lambda _: None)

    def stop_after_first_epoch(message: str) -> None:
        if message.startswith("[fine-tune] epoch 1/"):
            raise Interrupted  # as if the process were killed right after the epoch's checkpoint

    with pytest.raises(Interrupted):
        train_style_model(_config(tmp_path, cache, "resumed"), progress=stop_after_first_epoch)
    assert not (tmp_path / "resumed" / "model.keras").exists()
    after_first = _weights(tmp_path / "resumed" / "checkpoint" / "last.weights.h5")
    with pytest.raises(FileExistsError, match="--resume"):
        train_style_model(_config(tmp_path, cache, "resumed"), progress=lambda _: None)
    lines: list[str] = []
    resumed = train_style_model(_config(tmp_path, cache, "resumed", resume=True), progress=lines.append)

    assert any(line.startswith("[fine-tune] resumed after epoch 1") for line in lines)
    assert sum(line.startswith("[fine-tune] epoch ") for line in lines) == 2  # epochs 2 and 3 only
    a, b = _weights(whole / "checkpoint" / "last.weights.h5"), _weights(resumed / "checkpoint" / "last.weights.h5")
    assert a.keys() == b.keys() and len(a) > 50
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=0, atol=1e-6, err_msg=name)
    # Epochs 2 and 3 moved the weights (the comparison is not between two untouched networks).
    assert sum(not np.allclose(after_first[k], a[k], atol=1e-6) for k in a) > 20
    # Another flag than the checkpoint's is refused.
    cfg = _config(tmp_path, cache, "resumed", resume=True)
    cfg.lr = 1e-3
    (resumed / "model.keras").rename(resumed / "model.keras.done")
    with pytest.raises(ValueError, match="lr"):
        train_style_model(cfg, progress=lambda _: None)


def test_statistics_features_on_real_paintings() -> None:
    import keras

    from recommender.ml.layers import ChannelStats
    from recommender.training.network import default_backbone_path, split_backbone_with_stats

    cut = split_backbone_with_stats(keras.models.load_model(default_backbone_path(), compile=False), 8)
    assert cut.low_taps == ("block0_project_bn", "block2_add", "block4_add")
    assert cut.group_dims == (32, 48, 80, 160, 224, 384, 640, 1280)
    path = sorted((DEMO / "images").rglob("*.jpg"))[0]
    with Image.open(path) as img:
        rgb = img.convert("RGB")
    sharp = load_image(path)
    blurred = to_model_input(rgb.filter(ImageFilter.GaussianBlur(3)))
    shifted = np.roll(sharp, (64, 96), axis=(0, 1))  # the same strokes, elsewhere
    _, low_sharp, *_ = cut.bottom(np.stack([sharp, blurred, shifted]), training=False)
    stats = np.asarray(low_sharp)  # block0 stats: 16 means then 16 standard deviations

    # The layer is what it says: per-channel mean and standard deviation over the map.
    fmap = np.random.default_rng(0).normal(size=(2, 7, 5, 3)).astype(np.float32)
    got = np.asarray(ChannelStats()(fmap))
    np.testing.assert_allclose(got[:, :3], fmap.mean(axis=(1, 2)), atol=1e-5)
    np.testing.assert_allclose(got[:, 3:], fmap.std(axis=(1, 2)), atol=1e-4)
    # Fine-stroke statistics see texture: blurring the painting lowers how unevenly they fire...
    assert stats[1, 16:].mean() < 0.8 * stats[0, 16:].mean()
    # ...and hardly depend on where things are: moving the content keeps them (only seams differ).
    assert np.corrcoef(stats[2], stats[0])[0, 1] > 0.99
    assert np.abs(stats[2] - stats[0]).mean() < 0.2 * np.abs(stats[1] - stats[0]).mean()


def test_the_index_never_holds_a_held_out_image() -> None:
    paintings = read_paintings(DEMO)
    split = make_split(paintings, perceptual_hashes(paintings), seed=42)
    by_id = {p.id: p for p in paintings}
    held = [by_id[i] for part in ("val", "test", "val_unseen", "test_unseen") for i in split.parts[part]]
    pack = Painting("x1", paintings[0].path, paintings[0].style, "", "B", pack=True)
    index = index_items([*(by_id[i] for i in split.parts["train"]), pack, held[0]], held)
    ids = {p.id for p in index}
    assert ids and not ids & {p.id for p in held}
    assert "x1" not in ids and len(ids) == len(split.parts["train"])


def test_vote_mixes_the_nearest_works_styles_into_the_answer() -> None:
    classes = ["Baroque", "Cubism", "Fauvism"]
    probs = np.array([[0.5, 0.4, 0.1], [0.2, 0.7, 0.1]], np.float32)
    sims = np.array([[0.9, 0.8, 0.3], [0.5, 0.4, 0.3]], np.float32)
    styles = [["Cubism", "Cubism", "Baroque"], ["Unknown style", "Unknown style", "Unknown style"]]
    out = vote_for(probs, sims, styles, classes, VoteConfig(k=3, temperature=0.05, weight=0.5))
    assert out[0].argmax() == 1  # two close Cubist works outvote the classifier's slight Baroque lead
    np.testing.assert_allclose(out[0].sum(), 1.0, atol=1e-6)
    np.testing.assert_array_equal(out[1], probs[1])  # no labelled neighbour: the classifier's answer
    np.testing.assert_array_equal(vote_for(probs, sims, styles, classes, VoteConfig()), probs)  # weight 0
    # The closest work weighs most: softmax of similarity / temperature.
    vote = neighbour_vote(sims[:1], np.array([[0, 1, 2]]), 3, temperature=0.05)
    assert vote[0, 0] > vote[0, 1] > vote[0, 2] and abs(vote.sum() - 1) < 1e-6
