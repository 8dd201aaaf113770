"""Extra time per upload for the explanations: palette + hash, the duplicate check, the Grad-CAM heat map.

    DATABASE_URL=... python bench/bench_insights.py [--images 60]

For ``--images`` catalogue paintings (read from settings.CATALOGUE_DIR), the analyse step's parts
timed one image at a time as the worker runs them, after a warm-up: decoding + the forward pass
alone (what the step did before explanations), the same pass with the Grad-CAM gradient
(StyleModel.analyse, what the worker runs), palette + pHash (one reduced decode of the file), the
duplicate check (pgvector neighbours + their hashes; needs the catalogue embedded in that database),
and the heat map's drawing (overlay + JPEG encode). Medians and p95 in ms, and the heat map's cost
(gradient + drawing) as a share of the step without it (the issue's rule: above ~60 %, compute it
on demand).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artsite.settings.base")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=60)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from PIL import Image

    from recommender import versions
    from recommender.duplicates import find_duplicate
    from recommender.fingerprint import phash_of_image
    from recommender.ml.gradcam import OVERLAY_MAX_SIDE, overlay_image
    from recommender.ml.preprocess import load_image
    from recommender.palette import palette_of_image, small_rgb

    model = versions.active_style_model()
    model.warmup()
    files = sorted((settings.CATALOGUE_DIR / "images").glob("*.jpg"))
    sample = random.Random(1).sample(files, min(args.images + 3, len(files)))
    parts: dict[str, list[float]] = {
        "decode": [],
        "forward": [],
        "forward + Grad-CAM": [],
        "palette + hash": [],
        "duplicate": [],
        "heat map drawing": [],
    }
    for i, path in enumerate(sample):
        t0 = time.perf_counter()
        pixels = load_image(str(path))
        ta = time.perf_counter()
        model.predict_and_embed(pixels[None])
        t1 = time.perf_counter()
        analysis = model.analyse(pixels[None])
        t2 = time.perf_counter()
        with Image.open(path) as image:
            image.draft("RGB", (OVERLAY_MAX_SIDE, OVERLAY_MAX_SIDE))
            original = image.convert("RGB")
        small = small_rgb(original)
        palette_of_image(small)
        phash = phash_of_image(small)
        t3 = time.perf_counter()
        find_duplicate(embedding=analysis.embeddings[0], phash=phash)
        t4 = time.perf_counter()
        buffer = io.BytesIO()
        overlay_image(original, analysis.heatmaps[0]).save(buffer, format="JPEG", quality=85)
        t5 = time.perf_counter()
        if i < 3:  # warm-up: tracing, first queries
            continue
        timings = [ta - t0, t1 - ta, t2 - t1, t3 - t2, t4 - t3, t5 - t4]
        for name, seconds in zip(parts, timings, strict=True):
            parts[name].append(seconds * 1000)
    n = len(parts["duplicate"])
    print(f"{n} catalogue paintings, model {model.version}, Grad-CAM on layer {model.feature_layer}")
    for name, values in parts.items():
        print(f"  {name:<18} median {statistics.median(values):6.1f} ms   p95 {pct(values, 0.95):6.1f} ms")
    med = {name: statistics.median(values) for name, values in parts.items()}
    without_heat = med["decode"] + med["forward"] + med["palette + hash"] + med["duplicate"]
    heat = med["forward + Grad-CAM"] - med["forward"] + med["heat map drawing"]
    print(
        f"extra per upload: palette + duplicate {med['palette + hash'] + med['duplicate']:.1f} ms, heat map "
        f"{heat:.1f} ms (gradient + drawing; {100 * heat / without_heat:.0f} % of the step without it)"
    )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
