"""Image transforms that take the file format out of training and put it into evaluation.

The catalogue's formats (see ``training.data``) differ in three ways a network can read without
looking at the painting: the aspect ratio (squashed to a square vs kept), the resolution (224 px
vs ~170 px upsampled) and nothing else of note (both are JPEG quality 85). Training views
randomise all three so neither format survives as a cue; the evaluation transforms remove them
(*format-neutral*) or swap them (*format-swapped*), and the report shows the model under each.
Pillow + numpy only.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageEnhance

from recommender.ml.preprocess import IMAGE_SIZE, open_rgb, to_model_input
from recommender.training.data import Painting

# Format-neutral: the centre square, brought to one resolution below both formats' native one
# (format B's short side is ~170 px), so every image reaches the model equally soft.
NEUTRAL_SIDE = 160
# Format B as the catalogue has it: aspect kept, longest side 224, JPEG quality 85.
B_LONG_SIDE = 224
JPEG_QUALITY = 85
# Aspect ratios (width / height) used to "unsquash" a format-A image into format B: the two most
# common painting shapes, portrait and landscape.
B_ASPECTS = (0.78, 1.28)


def jpeg_roundtrip(img: Image.Image, quality: int) -> Image.Image:
    """Encode and decode as baseline JPEG (what both sources did to their files)."""
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as out:
        return out.convert("RGB")


def _random_crop(img: Image.Image, rng: random.Random, min_area: float) -> Image.Image:
    w, h = img.size
    for _ in range(10):
        area = w * h * rng.uniform(min_area, 1.0)
        aspect = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3))) * w / h
        cw, ch = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
        if 0 < cw <= w and 0 < ch <= h:
            left, top = rng.randint(0, w - cw), rng.randint(0, h - ch)
            return img.crop((left, top, left + cw, top + ch))
    return img


def _small_rotation(img: Image.Image, degrees: float) -> Image.Image:
    """Rotate and crop the corners away (black corners would be a cue of their own)."""
    w, h = img.size
    rotated = img.rotate(degrees, resample=Image.Resampling.BILINEAR)
    inset = math.ceil(max(w, h) * math.sin(math.radians(abs(degrees)))) + 1
    return rotated.crop((inset, inset, w - inset, h - inset))


def format_augment(img: Image.Image, rng: random.Random) -> np.ndarray:
    """One random training view: a float32 (224, 224, 3) array, format cues randomised.

    - geometry: half the views squash a random crop to a square (how format A was made), half
      keep its aspect and go through the app's own resize + centre crop (format B's way);
    - resolution: most views are first brought down to a short side of 96-176 px (format B's
      ~170 px and below), the others keep the file's resolution;
    - JPEG re-compression at a random quality; a small rotation now and then; horizontal flip;
    - colour jitter of +-5 % only: palette is part of style.
    """
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if rng.random() < 0.25:
        img = _small_rotation(img, rng.uniform(-4, 4))
    squash = rng.random() < 0.5
    img = _random_crop(img, rng, 0.7 if squash else 0.5)
    side = IMAGE_SIZE if rng.random() < 0.15 else rng.randint(96, 176)
    if squash:
        img = img.resize((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    else:
        w, h = img.size
        scale = side / min(w, h)
        if scale < 1:
            img = img.resize(
                (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR, reducing_gap=2.0
            )
    if rng.random() < 0.6:
        img = jpeg_roundtrip(img, rng.randint(40, 95))
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.95, 1.05))
    img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.95, 1.05))
    img = ImageEnhance.Color(img).enhance(rng.uniform(0.95, 1.05))
    return to_model_input(img)


def format_neutral(img: Image.Image) -> Image.Image:
    """The documented common geometry and resolution: the centre square at 160x160 px.

    Whatever the file (square-squashed 224 px, aspect-kept 170 px, a 4000 px photo), the result
    is the same shape at the same resolution; the app's preprocessing then scales it to 224.
    """
    w, h = img.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    return img.crop((left, top, left + s, top + s)).resize(
        (NEUTRAL_SIDE, NEUTRAL_SIDE), Image.Resampling.LANCZOS, reducing_gap=2.0
    )


def render_as_format_a(img: Image.Image) -> Image.Image:
    """Re-render any image the way source A made its files: squashed to 224x224, JPEG q85."""
    return jpeg_roundtrip(img.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS), JPEG_QUALITY)


def render_as_format_b(img: Image.Image, aspect: float) -> Image.Image:
    """Re-render the way source B made its files: ``aspect`` (w/h), longest side 224, JPEG q85.

    A format-A file has lost its true aspect, so a plausible painting shape is imposed instead.
    """
    size = (B_LONG_SIDE, round(B_LONG_SIDE / aspect)) if aspect >= 1 else (round(B_LONG_SIDE * aspect), B_LONG_SIDE)
    return jpeg_roundtrip(img.resize(size, Image.Resampling.LANCZOS), JPEG_QUALITY)


def format_swapped(img: Image.Image, fmt: str, key: str) -> Image.Image:
    """Format A rendered as B and format B (or anything else) as A; ``key`` picks B's aspect."""
    if fmt == "A":
        return render_as_format_b(img, B_ASPECTS[sum(key.encode()) % len(B_ASPECTS)])
    return render_as_format_a(img)


# -- the views a training run caches ------------------------------------------------------------
def eval_view(p: Painting, view: int) -> np.ndarray:
    """Held-out rendering ``view``: 0 the file as it is, 1 format-neutral, 2 format-swapped."""
    img = open_rgb(p.path)
    if view == 0:
        return to_model_input(img)
    if view == 1:
        return to_model_input(format_neutral(img))
    return to_model_input(format_swapped(img, p.fmt, p.id))


def train_view(seed: int) -> Callable[[Painting, int], np.ndarray]:
    def view(p: Painting, v: int) -> np.ndarray:
        # A string seed is stable across processes (hash() of a tuple with str is not).
        return format_augment(open_rgb(p.path), random.Random(f"{seed}:{p.id}:{v}"))

    return view
