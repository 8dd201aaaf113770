"""Extra time per upload for the explanations: palette + hash, the duplicate check, the Grad-CAM heat map.

    DATABASE_URL=... python bench/bench_insights.py [--images 60]

For ``--images`` catalogue paintings (read from settings.CATALOGUE_DIR), the analyse step's parts
timed one image at a time as the worker runs them, after a warm-up: decoding + the forward pass
(what the step did before), palette + pHash (one decode of the stored file), the duplicate check
(pgvector neighbours + their hashes; needs the catalogue embedded in that database), and the heat
map (Grad-CAM forward + backward, overlay, JPEG encode). Medians and p95 in ms, and the heat map's
cost as a share of the step without it (the issue's rule: above ~60 %, compute it on demand).
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
    from recommender.ml.gradcam import gradcam_for, overlay_image
    from recommender.ml.preprocess import load_image
    from recommender.palette import palette_of_image, small_rgb

    model = versions.active_style_model()
    model.warmup()
    cam = gradcam_for(model)
    files = sorted((settings.CATALOGUE_DIR / "images").glob("*.jpg"))
    sample = random.Random(1).sample(files, min(args.images + 3, len(files)))
    parts: dict[str, list[float]] = {"decode + forward": [], "palette + hash": [], "duplicate": [], "heat map": []}
    for i, path in enumerate(sample):
        t0 = time.perf_counter()
        pixels = load_image(str(path))
        probs, embeddings = model.predict_and_embed(pixels[None])
        t1 = time.perf_counter()
        with Image.open(path) as image:
            original = image.convert("RGB")
        small = small_rgb(original)
        palette_of_image(small)
        phash = phash_of_image(small)
        t2 = time.perf_counter()
        find_duplicate(embedding=embeddings[0], phash=phash)
        t3 = time.perf_counter()
        heat = cam.heatmap(pixels, int(probs[0].argmax()))
        buffer = io.BytesIO()
        overlay_image(original, heat).save(buffer, format="JPEG", quality=85)
        t4 = time.perf_counter()
        if i < 3:  # warm-up: tracing, first queries
            continue
        for name, ms in zip(parts, [t1 - t0, t2 - t1, t3 - t2, t4 - t3], strict=True):
            parts[name].append(ms * 1000)
    n = len(parts["heat map"])
    print(f"{n} catalogue paintings, model {model.version}, Grad-CAM on layer {cam.layer_name}")
    for name, values in parts.items():
        print(f"  {name:<17} median {statistics.median(values):6.1f} ms   p95 {pct(values, 0.95):6.1f} ms")
    before = statistics.median(parts["decode + forward"])
    without_heat = before + statistics.median(parts["palette + hash"]) + statistics.median(parts["duplicate"])
    heat = statistics.median(parts["heat map"])
    print(
        f"extra per upload: palette + duplicate {without_heat - before:.1f} ms, heat map {heat:.1f} ms "
        f"({100 * heat / without_heat:.0f} % of the analyse step without it)"
    )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
