"""Which part of an upload is analysed: the painting found in a wall photo, the corners the person set,
or the whole image. The first thing the worker's analysis does, and what `manage.py predict` does too.

One decode of the stored image at the size the heat map is drawn at (a JPEG DCT scale, see
`recommender.ml.gradcam.overlay_decode_size`) serves the detector, the warp and the insights. When
nothing is cut out, the model input is decoded exactly as before this step existed, so a clean upload
gets exactly the answer it got without it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

from .ml.gradcam import overlay_decode_size
from .ml.preprocess import load_image, to_model_input
from .painting_finder import find_painting, straighten

logger = logging.getLogger(__name__)

STRAIGHT_LONG_SIDE = 768  # the straightened painting: enough for the page, the heat map and the model


@dataclass
class Framing:
    """What the analysis looks at. `image` is what the insights (palette, hash, heat map) use."""

    source: str  # recommender.models.PaintingSource value
    corners: list[list[float]] | None  # fractions of the image, clockwise from top-left; None: all of it
    confidence: float | None
    image: Image.Image  # the straightened painting, or the decoded image when nothing was cut out
    pixels: np.ndarray  # the model's input, (224, 224, 3) float32
    ms: float

    @property
    def cut_out(self) -> bool:
        return self.corners is not None


def decode_for_framing(handle: BinaryIO) -> Image.Image:
    """The stored image decoded at the heat map's DCT scale (what the insights decoded before)."""
    with Image.open(handle) as image:
        image.draft("RGB", overlay_decode_size(image.size))
        image.load()
        ImageOps.exif_transpose(image, in_place=True)  # a no-op for stored uploads; `predict` reads any file
        return image if image.mode == "RGB" else image.convert("RGB")


def frame_image(handle: BinaryIO, requested: list | None) -> Framing:
    """Decide what to analyse in the image `handle` holds (seekable), given the person's corners
    (`requested`: None to find the painting, [] for the whole photo, else four [x, y] fractions)."""
    started = time.perf_counter()
    image = decode_for_framing(handle)
    width, height = image.size
    corners: list[list[float]] | None = None
    confidence: float | None = None
    if requested is None:
        quad = find_painting(image)
        if quad is not None:
            corners, confidence, source = quad.normalised((width, height)), quad.confidence, "detected"
        else:
            source = "none"
    elif requested:
        corners, source = [[float(x), float(y)] for x, y in requested], "person"
    else:
        source = "whole"
    if corners is None:
        handle.seek(0)
        pixels = load_image(handle)  # the model's own decode, exactly as without this step
        view = image
    else:
        view = straighten(image, np.asarray(corners) * [width, height], STRAIGHT_LONG_SIDE)
        pixels = to_model_input(view)
    return Framing(source, corners, confidence, view, pixels, (time.perf_counter() - started) * 1000)
