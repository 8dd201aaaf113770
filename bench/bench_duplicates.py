""" "Already in the catalogue": measure the duplicate rule's false-positive and miss rates on real pairs.

    DATABASE_URL=... python bench/bench_duplicates.py [--n 150] [--seed 3] [--dump rows.json]

Needs a database whose catalogue is embedded with the active style model and has perceptual hashes
(`manage.py embed_catalogue` then `manage.py fill_palettes`); the full 11,670-work catalogue makes
the false-positive test meaningful (more near neighbours to confuse a painting with).

Positives: ``--n`` catalogue works, each changed five ways as people's copies are: re-encoded
(JPEG quality 50), enlarged ×2, shrunk to 75 % (the catalogue's images are only ~224 px a side, so
"half size" would leave 112 px), cropped by 10 % on one side, and "photographed" (slight
perspective, blur, a brightness/contrast change, JPEG 80). Each must be recognised as *its own*
work: a miss is no match or the wrong one. Negatives: ``--n`` other works, as they are and
photographed, searched with themselves left out of the catalogue, so the catalogue does not hold
them: any match is a false positive (these are real paintings, often by a painter who has others
in the catalogue).

The thresholds in recommender.duplicates were read off the quantiles this script prints for
``--seed 1`` and ``--seed 2`` (similarity and hash distance of each copy to its own work, and to
the nearest unrelated work); measure them on other works with another seed (docs/explore.md reports
``--seed 3``).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artsite.settings.base")

VARIANTS = ["re-encoded", "enlarged", "shrunk", "cropped 10 %", "photographed"]


def variant(image, kind: str, rng: random.Random):
    from PIL import Image, ImageEnhance, ImageFilter

    w, h = image.size
    if kind == "re-encoded":
        return _jpeg(image, 50)
    if kind == "enlarged":  # a bigger copy of the same reproduction
        return _jpeg(image.resize((w * 2, h * 2), Image.Resampling.BICUBIC), 85)
    if kind == "shrunk":  # a thumbnail of it
        return _jpeg(image.resize((max(1, w * 3 // 4), max(1, h * 3 // 4)), Image.Resampling.BILINEAR), 85)
    if kind == "cropped 10 %":
        side = rng.choice(["left", "right", "top", "bottom"])
        dx, dy = w // 10, h // 10
        box = {"left": (dx, 0, w, h), "right": (0, 0, w - dx, h), "top": (0, dy, w, h), "bottom": (0, 0, w, h - dy)}
        return _jpeg(image.crop(box[side]), 85)
    if kind == "photographed":
        m = 0.04  # each corner moves up to 4 % of the side: a phone held not quite square
        quad = [
            (rng.uniform(0, m) * w, rng.uniform(0, m) * h),
            (rng.uniform(0, m) * w, h - rng.uniform(0, m) * h),
            (w - rng.uniform(0, m) * w, h - rng.uniform(0, m) * h),
            (w - rng.uniform(0, m) * w, rng.uniform(0, m) * h),
        ]
        out = image.transform(
            (w, h), Image.Transform.QUAD, [c for point in quad for c in point], Image.Resampling.BILINEAR
        )
        out = out.filter(ImageFilter.GaussianBlur(radius=1.0))
        out = ImageEnhance.Brightness(out).enhance(rng.uniform(0.85, 1.1))
        out = ImageEnhance.Contrast(out).enhance(rng.uniform(0.85, 1.1))
        return _jpeg(out, 80)
    raise ValueError(kind)


def _jpeg(image, quality: int):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def candidates_for(images, exclude: list[int], model):
    """For each image: its 5 nearest works as (artwork id, similarity, hash distance)."""
    import numpy as np

    from recommender.duplicates import CANDIDATES
    from recommender.fingerprint import hamming, phash_of_image
    from recommender.ml.preprocess import to_model_input
    from recommender.models import ArtworkFingerprint
    from recommender.palette import small_rgb
    from recommender.search import nearest_artworks

    vectors = model.embed(np.stack([to_model_input(img) for img in images]))
    out = []
    for img, vector, own in zip(images, vectors, exclude, strict=True):
        phash = phash_of_image(small_rgb(img))
        neighbours = nearest_artworks(vector, k=CANDIDATES, exclude_ids=[own] if own else [])
        hashes = dict(
            ArtworkFingerprint.objects.filter(artwork_id__in=[n.artwork.pk for n in neighbours]).values_list(
                "artwork_id", "phash"
            )
        )
        out.append(
            [
                (n.artwork.pk, n.similarity, hamming(phash, hashes[n.artwork.pk]) if n.artwork.pk in hashes else None)
                for n in neighbours
            ]
        )
    return out


def decide(cands, sure: float, low: float, max_bits: int):
    """The rule of recommender.duplicates with explicit thresholds: the chosen artwork id or None."""
    hits = [
        (d if d is not None else 64, -s, a)
        for a, s, d in cands
        if s >= sure or (d is not None and d <= max_bits and s >= low)
    ]
    return min(hits)[2] if hits else None


def rates(rows, sure, low, bits):
    """(misses by variant, false positives by variant) as (count, total) pairs."""
    misses, fps = {}, {}
    for kind, own, cands, positive in rows:
        chosen = decide(cands, sure, low, bits)
        book = misses if positive else fps
        bad, total = book.get(kind, (0, 0))
        wrong = chosen != own if positive else chosen is not None
        book[kind] = (bad + int(wrong), total + 1)
    return misses, fps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=150, help="positive works and as many negatives")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--dump", type=Path, default=None, help="write every image's candidates as JSON")
    args = parser.parse_args()

    import django

    django.setup()
    from PIL import Image

    from gallery.models import Artwork
    from recommender import duplicates, versions

    model = versions.active_style_model()
    pool = list(
        Artwork.objects.filter(embedding_version=model.version, fingerprint__isnull=False)
        .order_by("id")
        .values_list("id", "image")
    )
    if len(pool) < 2 * args.n:
        sys.exit(f"only {len(pool)} works with embeddings of {model.version} and hashes; embed and fill_palettes first")
    rng = random.Random(args.seed)
    picked = rng.sample(pool, 2 * args.n)
    positives, negatives = picked[: args.n], picked[args.n :]
    print(f"catalogue: {len(pool)} works embedded with {model.version}; {args.n} positives, {args.n} negatives")

    from django.core.files.storage import default_storage

    started = time.perf_counter()
    rows = []  # (variant, own id, candidates, positive?)
    for group, positive in ((positives, True), (negatives, False)):
        for i in range(0, len(group), 16):
            chunk = group[i : i + 16]
            images, meta = [], []
            for artwork_id, name in chunk:
                with default_storage.open(name, "rb") as handle:
                    image = Image.open(handle).convert("RGB")
                kinds = VARIANTS if positive else ["as it is", "photographed"]
                for kind in kinds:
                    images.append(image if kind == "as it is" else variant(image, kind, rng))
                    meta.append((kind, artwork_id))
            excluded = [0 if positive else own for _, own in meta]
            for (kind, own), cands in zip(meta, candidates_for(images, excluded, model), strict=True):
                rows.append((kind, own, cands, positive))
    print(f"{len(rows)} images embedded and searched in {time.perf_counter() - started:.0f} s")
    if args.dump:
        import json

        args.dump.write_text(json.dumps(rows))

    def report(title, subset, sure, low, bits):
        misses, fps = rates(subset, sure, low, bits)
        print(f"\n{title}: sure ≥ {sure:.2f}, or ≥ {low:.2f} with hash ≤ {bits} bits")
        for kind, (bad, total) in misses.items():
            print(f"  miss   {kind:<14} {bad:>4}/{total:<4} {100 * bad / total:5.1f} %")
        mb, mt = sum(b for b, _ in misses.values()), sum(t for _, t in misses.values())
        print(f"  miss   {'all':<14} {mb:>4}/{mt:<4} {100 * mb / mt:5.1f} %")
        for kind, (bad, total) in fps.items():
            print(f"  false+ {kind:<14} {bad:>4}/{total:<4} {100 * bad / total:5.1f} %")
        fb, ft = sum(b for b, _ in fps.values()), sum(t for _, t in fps.values())
        print(f"  false+ {'all':<14} {fb:>4}/{ft:<4} {100 * fb / ft:5.1f} %")

    # Similarities of the true match and of the closest unrelated work, to see the margin.
    def quantiles(values):
        values = sorted(values)
        return " ".join(f"{values[int(q * (len(values) - 1))]:.3f}" for q in (0.01, 0.05, 0.5, 0.95, 0.99))

    own_sims = [next((s for a, s, _ in c if a == own), 0.0) for _, own, c, pos in rows if pos]
    stranger_sims = [c[0][1] for _, _, c, pos in rows if not pos and c]
    own_bits = [
        next((d for a, _, d in c if a == own and d is not None), 64)
        for kind, own, c, pos in rows
        if pos and kind != "cropped 10 %"
    ]
    stranger_bits = [min((d for _, _, d in c if d is not None), default=64) for _, _, c, pos in rows if not pos]
    print("\nquantiles 1/5/50/95/99 %:")
    print(f"  similarity to own work        {quantiles(own_sims)}")
    print(f"  similarity to nearest other   {quantiles(stranger_sims)}")
    print(f"  hash bits to own (no crops)   {quantiles(own_bits)}")
    print(f"  hash bits to nearest others   {quantiles(stranger_bits)}")

    report(
        "rule of recommender.duplicates",
        rows,
        duplicates.SURE_SIMILARITY,
        duplicates.HASH_SIMILARITY,
        duplicates.HASH_MAX_DISTANCE,
    )
    print(f"\nload average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
