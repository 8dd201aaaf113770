"""What a phone photo costs the web process to accept: HEIC and AVIF against a 6 MB JPEG.

    python bench/bench_phone_photos.py [--runs 5] [--cache DIR] [--decode-threads N]

Draws photos (a painting-like pattern plus a little sensor noise, so that the encoders keep some
detail): HEIC as phones write it (pillow-heif, a grid of 512-pixel tiles, quality 80) at 24 megapixels
(6000 × 4000) at a size like a phone's (~3.4 MB) and a heavy one (~8.9 MB, near the 10 MB upload limit) and at
12 megapixels (4032 × 3024); AVIF (Pillow, quality 80) at 24 megapixels; and, as today's reference, a
4032 × 3024 JPEG of about 6 MB. Then times `gallery.images.normalise_image` on each (checks, decode,
orientation, reduction, re-encode to the stored JPEG) and, apart, the decode alone (`Image.open` +
`load`, at full size: for the JPEG that is without the DCT scaling `normalise_image` uses): median wall
and CPU ms (`time.process_time`, all threads of the process). Drawing and encoding the files takes
about a minute; `--cache DIR` keeps them for the next run.

A 6000 × 4000 HEIC written as one picture (no grid) is not drawn: libde265 refuses to decode an HEVC
picture that large, and phones write grids.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artsite.settings.base")

# name: (format, width, height, noise, save options)
FILES: dict[str, tuple[str, int, int, float, dict]] = {
    "HEIC 6000x4000": ("HEIF", 6000, 4000, 0, {"quality": 80, "tile_size": 512}),
    "HEIC 6000x4000 heavy": ("HEIF", 6000, 4000, 1, {"quality": 80, "tile_size": 512}),
    "HEIC 4032x3024": ("HEIF", 4032, 3024, 0, {"quality": 80, "tile_size": 512}),
    "AVIF 6000x4000": ("AVIF", 6000, 4000, 6, {"quality": 80}),
    "JPEG 4032x3024": ("JPEG", 4032, 3024, 9, {"quality": 95}),
}


def photo(width: int, height: int, noise: float) -> Image.Image:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([128 + 90 * np.sin(x / 97 + c) * np.cos(y / 131 - c) for c in range(3)], axis=2)
    return Image.fromarray(np.clip(base + rng.normal(0, noise, base.shape), 0, 255).astype(np.uint8))


def encoded(name: str, cache: Path | None) -> bytes:
    fmt, width, height, noise, options = FILES[name]
    path = cache / f"{name.replace(' ', '_')}.{fmt.lower()}" if cache else None
    if path and path.exists():
        return path.read_bytes()
    buffer = io.BytesIO()
    photo(width, height, noise).save(buffer, format=fmt, **options)
    if path:
        path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def timed(fn: Callable[[bytes], object], data: bytes, runs: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        fn(data)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as img:
        img.load()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cache", type=Path, help="folder to keep the drawn files in between runs")
    parser.add_argument("--decode-threads", type=int, help="pillow-heif's decoding threads (default 4)")
    args = parser.parse_args()
    import django

    django.setup()
    import pillow_heif
    from django.test import override_settings

    from gallery.images import normalise_image

    if args.decode_threads:
        pillow_heif.options.DECODE_THREADS = args.decode_threads
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    threads = pillow_heif.options.DECODE_THREADS
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; pillow-heif decode threads {threads}")
    files = {name: encoded(name, args.cache) for name in FILES}
    with override_settings(UPLOAD_MAX_BYTES=50 * 1024 * 1024):
        for name, data in files.items():
            stored = Image.open(normalise_image(data))
            wall, cpu = timed(normalise_image, data, args.runs)
            decode_wall, decode_cpu = timed(decode, data, args.runs)
            print(
                f"{name:21s} {len(data) / 1e6:4.1f} MB  normalise: wall {wall:5.0f} ms, CPU {cpu:5.0f} ms"
                f"  (full decode alone: wall {decode_wall:5.0f}, CPU {decode_cpu:5.0f})"
                f"  stored {stored.size[0]}x{stored.size[1]}"
            )


if __name__ == "__main__":
    main()
