"""Image preprocessing shared by training, the workers and the benchmarks.

Pillow + numpy only: importing this module must stay cheap and must not pull in TensorFlow.
The contract matches the style model's input: RGB float32 in 0..255, 224x224 (the model
rescales its input itself, so no normalisation happens here).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

IMAGE_SIZE = 224

ImageSource = str | Path | BinaryIO


def to_model_input(img: Image.Image, size: int = IMAGE_SIZE) -> np.ndarray:
    """Resize the shorter side of an RGB PIL image to ``size`` and center-crop ``size`` x ``size``."""
    w, h = img.size
    scale = size / min(w, h)
    new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
    if (new_w, new_h) != (w, h):
        img = img.resize((new_w, new_h), Image.Resampling.BILINEAR)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    img = img.crop((left, top, left + size, top + size))
    return np.asarray(img, dtype=np.float32)


def open_rgb(src: ImageSource) -> Image.Image:
    """Open an image, apply its EXIF orientation and convert it to RGB (fully decoded)."""
    with Image.open(src) as img:
        # draft() lets the JPEG decoder downscale by 2/4/8 for free on large uploads.
        img.draft("RGB", (IMAGE_SIZE, IMAGE_SIZE))
        img = ImageOps.exif_transpose(img)
        return img.convert("RGB")


def load_image(src: ImageSource) -> np.ndarray:
    """Decode ``src`` (path or binary file object) into a float32 (224, 224, 3) RGB array in 0..255."""
    return to_model_input(open_rgb(src))


def as_model_batch(images: np.ndarray) -> np.ndarray:
    """Images as the models take them: float32 (N, 224, 224, 3); one (224, 224, 3) image becomes N=1.

    Raises ValueError for any other shape, before a model sees it.
    """
    batch = np.asarray(images, dtype=np.float32)
    if batch.ndim == 3:
        batch = batch[None]
    if batch.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 3):
        raise ValueError(f"expected (N, {IMAGE_SIZE}, {IMAGE_SIZE}, 3), got {batch.shape}")
    return batch


def load_batch(paths: Iterable[ImageSource]) -> np.ndarray:
    """Decode several images into one float32 (N, 224, 224, 3) array."""
    arrays = [load_image(p) for p in paths]
    if not arrays:
        return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.float32)
    return np.stack(arrays)
