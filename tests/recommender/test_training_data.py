"""Format-invariant training: the transforms and the leak-free split, on real catalogue images."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from gallery.catalogue_folder import CatalogueFolder, Table, write_table
from recommender.training.augment import (
    NEUTRAL_SIDE,
    format_augment,
    format_neutral,
    format_swapped,
    render_as_format_a,
    render_as_format_b,
)
from recommender.training.data import (
    Painting,
    make_split,
    near_duplicate_pairs,
    perceptual_hashes,
    read_paintings,
)

DEMO = settings.DEMO_CATALOGUE_DIR


@pytest.fixture(scope="module")
def demo_paintings() -> list[Painting]:
    return read_paintings(DEMO)


def _first(paintings: list[Painting], fmt: str) -> Painting:
    return next(p for p in paintings if p.fmt == fmt)


def _open(p: Painting) -> Image.Image:
    with Image.open(p.path) as img:
        return img.convert("RGB")


def test_formats_are_read_from_the_source(demo_paintings):
    fmts = {p.fmt for p in demo_paintings}
    assert fmts == {"A", "B", "R"}
    a, b = _open(_first(demo_paintings, "A")), _open(_first(demo_paintings, "B"))
    assert a.size == (224, 224)  # source A: squashed square
    assert max(b.size) == 224 and min(b.size) < 224  # source B: aspect kept


def test_format_a_rendered_as_b_and_back(demo_paintings):
    original = _open(_first(demo_paintings, "A"))
    as_b = render_as_format_b(original, 0.78)
    assert as_b.size == (175, 224)  # portrait, longest side 224, like a source-B file
    back = render_as_format_a(as_b)
    assert back.size == (224, 224)
    # Only resampling and two JPEG passes stand between the round trip and the original.
    diff = np.abs(np.asarray(back, np.float32) - np.asarray(original, np.float32)).mean()
    assert diff < 12, diff
    # format_swapped picks the rendering from the file's format.
    assert format_swapped(original, "A", "c00001").size[1] == 224
    assert format_swapped(_open(_first(demo_paintings, "B")), "B", "c00002").size == (224, 224)


def test_format_neutral_gives_one_geometry_and_resolution(demo_paintings):
    sizes = set()
    for fmt in ("A", "B", "R"):
        img = _open(_first(demo_paintings, fmt))
        sizes.add(format_neutral(img).size)
    big_photo = Image.new("RGB", (4000, 3000), (120, 80, 40))
    sizes.add(format_neutral(big_photo).size)
    assert sizes == {(NEUTRAL_SIDE, NEUTRAL_SIDE)}


def test_format_augment_randomises_geometry_and_resolution(demo_paintings):
    img = _open(_first(demo_paintings, "A"))
    views = [format_augment(img, random.Random(f"seed:{i}")) for i in range(12)]
    assert all(v.shape == (224, 224, 3) and v.dtype == np.float32 for v in views)
    assert all(v.min() >= 0 and v.max() <= 255 for v in views)
    # Deterministic per seed, different across seeds.
    again = format_augment(img, random.Random("seed:0"))
    assert np.array_equal(again, views[0])
    assert len({v.tobytes() for v in views}) == len(views)
    # Some views are blurred by a trip through a lower resolution: less high-frequency energy.
    sharpness = [float(np.abs(np.diff(v.mean(axis=2), axis=1)).mean()) for v in views]
    assert max(sharpness) > 1.3 * min(sharpness)


def _folder_with_near_duplicate(tmp_path: Path, n: int = 60) -> tuple[Path, str, str]:
    """A slice of the demo catalogue plus a re-encoded, resized copy of one of its paintings."""
    table = CatalogueFolder(DEMO).catalogue()
    rows = [r for r in table.rows if r["source"].startswith("jalpv1")][:n]
    (tmp_path / "images").mkdir()
    for r in rows:
        shutil.copy(DEMO / r["file"], tmp_path / r["file"])
    twin_of = rows[0]
    with Image.open(DEMO / twin_of["file"]) as img:
        img.convert("RGB").resize((200, 180)).save(tmp_path / "images" / "copy.jpg", quality=60)
    copy = {**twin_of, "id": "c99999", "file": "images/copy.jpg", "artist": ""}
    write_table(tmp_path / "catalogue.csv", Table(table.fields, [*rows, copy]))
    return tmp_path, twin_of["id"], "c99999"


def test_split_keeps_near_duplicates_on_one_side(tmp_path):
    directory, original, copy = _folder_with_near_duplicate(tmp_path)
    paintings = read_paintings(directory)
    hashes = perceptual_hashes(paintings)
    ids = [p.id for p in paintings]
    pairs = {(ids[i], ids[j]) for i, j in near_duplicate_pairs(hashes)}
    assert (original, copy) in pairs or (copy, original) in pairs
    for seed in range(8):
        split = make_split(paintings, hashes, seed=seed, val_fraction=0.3, test_fraction=0.3)
        side = {i: part for part, members in split.parts.items() for i in members}
        assert side[original] == side[copy]
        assert sorted(side) == sorted(ids)  # every painting exactly once


NEAR_DUPLICATES = Path(__file__).resolve().parents[1] / "fixtures" / "near_duplicate_pair"


def test_split_keeps_a_real_catalogue_near_duplicate_pair_together(tmp_path, demo_paintings):
    """c00701 and c10726 are one Hiroshige print filed twice in the catalogue (two labels, two sources)."""
    pair = read_paintings(NEAR_DUPLICATES)
    paintings = [*pair, *demo_paintings[:80]]
    hashes = perceptual_hashes(paintings)
    assert (0, 1) in near_duplicate_pairs(hashes)
    for seed in range(8):
        split = make_split(paintings, hashes, seed=seed, val_fraction=0.3, test_fraction=0.3)
        side = {i: part for part, members in split.parts.items() for i in members}
        assert side["c00701"] == side["c10726"]


def test_split_holds_out_whole_painters(demo_paintings):
    hashes = perceptual_hashes(demo_paintings)
    split = make_split(demo_paintings, hashes, seed=1, unseen_painter_fraction=0.1)
    by_id = {p.id: p for p in demo_paintings}
    train_painters = {by_id[i].artist for i in split.parts["train"]}
    held = split.held_out_painters["val_unseen"] + split.held_out_painters["test_unseen"]
    assert held
    assert not set(held) & train_painters
    for part in ("val_unseen", "test_unseen"):
        assert {by_id[i].artist for i in split.parts[part]} <= set(held)
