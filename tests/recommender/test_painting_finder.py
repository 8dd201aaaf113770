"""Finding and straightening the painting in a wall photo (recommender.painting_finder, recommender.framing),
on real catalogue paintings rendered onto walls with known corners (recommender.training.wall_photos)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from recommender.framing import frame_image
from recommender.ml.preprocess import load_image
from recommender.painting_finder import find_painting, quad_iou, straighten
from recommender.training.wall_photos import wall_photo


def _demo_images(count: int, offset: int = 0) -> list[Path]:
    return sorted((settings.DEMO_CATALOGUE_DIR / "images").glob("*.jpg"))[offset : offset + count]


def _photo(index: int, kind: str = "framed"):
    path = _demo_images(1, offset=index * 7)[0]
    return wall_photo(Image.open(path).convert("RGB"), seed=index, kind=kind)


def test_framed_paintings_on_walls_are_found_to_their_corners() -> None:
    ious = []
    for index in range(12):
        photo = _photo(index)
        quad = find_painting(photo.image())
        ious.append(0.0 if quad is None else quad_iou(quad.array(), photo.corners))
    # The bench's goal is 95 % at IoU 0.9 (README); 11 of these 12 keeps a margin for the odd hard frame.
    assert sum(iou >= 0.9 for iou in ious) >= 11, [round(i, 3) for i in ious]
    assert np.median(ious) > 0.95


def test_the_subject_of_two_paintings_is_the_larger_one_in_the_middle() -> None:
    second = Image.open(_demo_images(1, offset=200)[0]).convert("RGB")
    found = 0
    for index in range(4):
        painting = Image.open(_demo_images(1, offset=index * 11)[0]).convert("RGB")
        photo = wall_photo(painting, seed=100 + index, kind="two_paintings", second=second)
        quad = find_painting(photo.image())
        found += quad is not None and quad_iou(quad.array(), photo.corners) >= 0.9
    assert found >= 3


def test_clean_catalogue_images_and_tight_crops_are_left_whole() -> None:
    for path in _demo_images(80, offset=100):
        assert find_painting(Image.open(path).convert("RGB")) is None, path.name
    for index in range(3):
        assert find_painting(_photo(index, kind="tight_crop").image()) is None


def test_straightened_painting_is_the_painting_drawn() -> None:
    photo = _photo(3)
    quad = find_painting(photo.image())
    assert quad is not None
    flat = straighten(photo.image(), quad.array(), long_side=256)
    # Its aspect is the painting's, and its pixels follow the painting's (a light gradient, noise and
    # JPEG remain): compare both at 32 × 32 in grey.
    assert flat.width / flat.height == pytest.approx(photo.painting.width / photo.painting.height, rel=0.08)
    a = np.asarray(flat.convert("L").resize((32, 32)), np.float64).ravel()
    b = np.asarray(photo.painting.convert("L").resize((32, 32)), np.float64).ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.8


def test_framing_a_clean_image_gives_the_model_exactly_its_old_input() -> None:
    path = _demo_images(1, offset=5)[0]
    framing = frame_image(io.BytesIO(path.read_bytes()), None)
    assert framing.source == "none" and framing.corners is None
    assert np.array_equal(framing.pixels, load_image(path))


def test_framing_follows_the_person() -> None:
    photo = _photo(2)
    corners = [[0.1, 0.1], [0.9, 0.12], [0.88, 0.9], [0.12, 0.88]]
    by_person = frame_image(io.BytesIO(photo.jpeg), corners)
    assert by_person.source == "person" and by_person.corners == corners
    whole = frame_image(io.BytesIO(photo.jpeg), [])
    assert whole.source == "whole" and whole.corners is None
    assert np.array_equal(whole.pixels, load_image(io.BytesIO(photo.jpeg)))
    found = frame_image(io.BytesIO(photo.jpeg), None)
    assert found.source == "detected" and 0 < found.confidence <= 1
    width, height = photo.image().size
    assert quad_iou(np.asarray(found.corners) * [width, height], photo.corners) >= 0.9
    assert found.pixels.shape == (224, 224, 3) and not np.array_equal(found.pixels, whole.pixels)
