"""What a phone photo costs the web process to accept: HEIC and AVIF against a 6 MB JPEG.

    python bench/bench_phone_photos.py [--runs 5]

Draws photos (a painting-like pattern plus sensor noise, so the encoders cannot compress them to
nothing): HEIC (pillow-heif, quality 80) and AVIF (Pillow, quality 80) at 12 megapixels (4032 × 3024,
an iPhone's default) and AVIF at 24 (6000 × 4000), and, as today's reference, a 4032 × 3024 JPEG of
about 6 MB; then times `gallery.images.normalise_image` on each (checks, full decode, orientation,
re-encode to the stored JPEG): median wall and CPU ms. A 24-megapixel HEIC is not drawn: x265 writes
it as one HEVC picture, which libde265 refuses to decode (phones write a grid of 512 px tiles, which
pillow-heif cannot write).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artsite.settings.base")


def photo(width: int, height: int, noise: float) -> Image.Image:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([128 + 90 * np.sin(x / 97 + c) * np.cos(y / 131 - c) for c in range(3)], axis=2)
    return Image.fromarray(np.clip(base + rng.normal(0, noise, base.shape), 0, 255).astype(np.uint8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import django

    django.setup()
    from django.test import override_settings

    from gallery.images import normalise_image

    files = {}
    for fmt, (width, height) in (("HEIF", (4032, 3024)), ("AVIF", (4032, 3024)), ("AVIF", (6000, 4000))):
        buffer = io.BytesIO()
        photo(width, height, 6).save(buffer, format=fmt, quality=80)
        files[f"{fmt} {width}x{height}"] = buffer.getvalue()
    buffer = io.BytesIO()
    photo(4032, 3024, 14).save(buffer, format="JPEG", quality=95)
    files["JPEG 4032x3024"] = buffer.getvalue()
    with override_settings(UPLOAD_MAX_BYTES=50 * 1024 * 1024):
        for name, data in files.items():
            walls, cpus = [], []
            for _ in range(args.runs):
                wall, cpu = time.perf_counter(), time.process_time()
                normalise_image(data)
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
            print(
                f"{name:16s} {len(data) / 1e6:5.1f} MB  normalise: wall {statistics.median(walls):6.0f} ms, "
                f"CPU {statistics.median(cpus):6.0f} ms"
            )


if __name__ == "__main__":
    main()
