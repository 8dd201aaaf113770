"""Colour palettes: extraction time per image, and palette search latency on the stored catalogue palettes.

    DATABASE_URL=... python bench/bench_palette.py [--images 200] [--queries 300] [--catalogue DIR]

(i) Extraction: palette + perceptual hash of ``--images`` catalogue images read from ``--catalogue``
(default: settings.CATALOGUE_DIR), one at a time as a worker does for an upload: mean, p50, p95 ms.
(ii) Search: ``recommender.palette_search.artworks_by_palette`` (the page's and the API's query, top
24) for ``--queries`` picks of 1, 2 or 3 colours (half taken from real palettes, half random), on the
palettes stored in the database (`manage.py fill_palettes`): p50 / p95 / max ms, and how many works
the database holds palettes for. The load average is printed: the numbers depend on it.
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--catalogue", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from recommender.colour import rgb_to_hex
    from recommender.models import ArtworkPalette
    from recommender.palette import palette_and_phash_of_file
    from recommender.palette_search import artworks_by_palette, parse_colours

    rng = random.Random(args.seed)
    images_dir = (args.catalogue or settings.CATALOGUE_DIR) / "images"
    files = sorted(images_dir.glob("*.jpg"))
    if files:
        sample = rng.sample(files, min(args.images, len(files)))
        times = []
        for path in sample:
            started = time.perf_counter()
            palette_and_phash_of_file(str(path))
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"extraction (palette + pHash), {len(sample)} catalogue images: mean {statistics.mean(times):.1f} ms, "
            f"p50 {pct(times, 0.5):.1f} ms, p95 {pct(times, 0.95):.1f} ms"
        )
    else:
        print(f"extraction skipped: no images in {images_dir}")

    stored = ArtworkPalette.objects.exclude(colours=[]).count()
    if not stored:
        print("search skipped: no palettes stored (manage.py fill_palettes)")
        return
    palettes = list(ArtworkPalette.objects.exclude(colours=[]).values_list("colours", flat=True)[:2000])
    queries = []
    for i in range(args.queries):
        n = 1 + i % 3
        if i % 2:
            colours = [c["hex"] for c in rng.choice(palettes)[:n]]
        else:
            colours = [rgb_to_hex((rng.randrange(256), rng.randrange(256), rng.randrange(256))) for _ in range(n)]
        queries.append(parse_colours(colours))
    artworks_by_palette(colours=queries[0])  # connection and plan warm-up
    times, found = [], []
    for picked in queries:
        started = time.perf_counter()
        results = artworks_by_palette(colours=picked, limit=24)
        times.append((time.perf_counter() - started) * 1000)
        found.append(len(results))
    print(
        f"palette search over {stored} stored palettes, {len(queries)} queries of 1–3 colours, top 24: "
        f"p50 {pct(times, 0.5):.1f} ms, p95 {pct(times, 0.95):.1f} ms, max {max(times):.1f} ms "
        f"(results per query: median {statistics.median(found):.0f})"
    )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
