"""The worker's cheaper insight paths on real paintings: the overlay drawn at a DCT-scaled decode
size (no resampling), and the upload palette from a 32-pixel sample (issue 19).

Pure Pillow/numpy: no database, no model. The images are demo catalogue paintings, scaled to the
sizes uploads are stored at (gallery.images keeps at most 2,048 px a side).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from recommender.colour import Lab, delta_e
from recommender.fingerprint import hamming, phash_of_image
from recommender.insights import HASH_SIDE, PALETTE_SAMPLE_SIDE
from recommender.ml.gradcam import OVERLAY_MAX_SIDE, OVERLAY_MIN_SIDE, overlay_decode_size, overlay_image
from recommender.palette import palette_of_image

PAINTINGS = sorted((settings.DEMO_CATALOGUE_DIR / "images").glob("*.jpg"))[:12]
HEAT = np.linspace(0, 1, 49, dtype=np.float32).reshape(7, 7)


def _stored_jpeg(path: Path, longest: int) -> bytes:
    """The painting as an upload would be stored: a JPEG `longest` px on its longest side."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        scale = longest / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _decode_for_overlay(data: bytes) -> Image.Image:
    """What recommender.insights does: draft to the overlay's decode size, then decode."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", overlay_decode_size(image.size))
        return image.convert("RGB")


@pytest.mark.parametrize(
    ("longest", "decoded"),
    [
        (2000, 1000),  # a phone photo as stored: 1/2 scale, a quarter of the pixels
        (2048, 1024),
        (1600, 800),
        (800, 800),  # between the bounds: decoded whole, drawn as it is
        (224, 224),  # small images are never enlarged
        (4608, 576),  # 1/8 keeps 576 px
    ],
)
def test_stored_photos_decode_at_a_dct_scale_the_overlay_draws_as_it_is(longest, decoded):
    original = _decode_for_overlay(_stored_jpeg(PAINTINGS[0], longest))
    assert max(original.size) == decoded
    overlay = overlay_image(original, HEAT)
    assert overlay.size == original.size and overlay.mode == "RGB"


def test_a_size_no_dct_scale_fits_is_resampled_to_the_bound():
    original = _decode_for_overlay(_stored_jpeg(PAINTINGS[1], 1100))  # 1/2 gives 550 < OVERLAY_MIN_SIDE
    assert max(original.size) == 1100
    overlay = overlay_image(original, HEAT)
    assert max(overlay.size) == OVERLAY_MAX_SIDE
    assert OVERLAY_MIN_SIDE <= max(overlay.size) <= OVERLAY_MAX_SIDE


def test_the_overlay_colours_the_models_square_and_dims_the_rest():
    original = _decode_for_overlay(_stored_jpeg(PAINTINGS[2], 2000))
    overlay = np.asarray(overlay_image(original, HEAT), dtype=np.float32)
    painting = np.asarray(original, dtype=np.float32)
    h, w = painting.shape[:2]
    side = min(w, h)
    top, left = (h - side) // 2, (w - side) // 2
    outside = np.ones((h, w), bool)
    outside[top : top + side, left : left + side] = False
    if outside.any():  # dimmed to 45 % outside the centre square the model saw
        assert overlay[outside].mean() == pytest.approx(painting[outside].mean() * 0.45, rel=0.03)
    # Inside: the coldest corner keeps 75 % of the painting under 25 % of the ramp's near-black; the
    # hottest is 75 % the ramp's yellow, whatever the painting is there.
    q = side // 8
    cold = overlay[top : top + q, left : left + q]
    hot = overlay[top + side - q : top + side, left + side - q : left + side]
    assert cold.mean() == pytest.approx(painting[top : top + q, left : left + q].mean() * 0.75, abs=6)
    red, green, blue = hot.reshape(-1, 3).mean(axis=0)
    assert red > 150 and green > 110 and blue < red


def test_the_hash_from_the_scaled_decode_matches_the_full_decode():
    """pHash is taken from the 256 px copy of the DCT-scaled decode; the catalogue's hashes come from
    full decodes, so the two must agree within a few of the duplicate rule's 10 bits."""
    for path in PAINTINGS:
        data = _stored_jpeg(path, 2000)
        with Image.open(io.BytesIO(data)) as image:
            full = image.convert("RGB")
        scaled = _decode_for_overlay(data)
        hashes = []
        for decoded in (full, scaled):
            small = decoded.copy()
            small.thumbnail((HASH_SIDE, HASH_SIDE), Image.Resampling.BOX)
            hashes.append(phash_of_image(small))
        assert hamming(*hashes) <= 4, path.name


def test_the_upload_palette_from_32_pixels_is_close_to_the_catalogues_64():
    distances = []
    for path in PAINTINGS:
        with Image.open(path) as image:
            small = image.convert("RGB")
        small.thumbnail((HASH_SIDE, HASH_SIDE), Image.Resampling.BOX)
        full = palette_of_image(small)
        cheap = palette_of_image(small, sample_side=PALETTE_SAMPLE_SIDE)
        assert 1 <= len(cheap) <= 6
        assert sum(c.share for c in cheap) == pytest.approx(1, abs=0.01)
        assert cheap == palette_of_image(small, sample_side=PALETTE_SAMPLE_SIDE)  # deterministic
        # Share-weighted distance from each cheap colour to the nearest colour of the full palette.
        distances.append(
            sum(c.share * min(delta_e(Lab(c.l, c.a, c.b), Lab(f.l, f.a, f.b)) for f in full) for c in cheap)
        )
    assert np.mean(distances) < 4.0 and max(distances) < 10.0, distances
