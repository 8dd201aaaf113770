"""Photos of paintings on a wall: is the painting found, and is the answer then the painting's?

    python bench/bench_painting_finder.py [--photos 300] [--model] [--index 2000]

Photos are drawn by `recommender.training.wall_photos` (see docs/painting-finder.md) from paintings of
the shipped style model's **test** split (the detector was tuned on photos of validation paintings),
70 % framed, 10 % each with a painted dark border, two paintings on one wall and a tight crop.

Without `--model` (no model, no database):
* corner accuracy: share of photos whose found painting overlaps the true one at IoU ≥ 0.9 (a tight
  crop's true answer is the whole photo), per kind;
* false crops: clean catalogue files of the validation split in which a painting is "found";
* CPU time of the framing step at phone resolution (1600 × 1200 JPEG), against the two decodes the
  worker made before it (the model's and the insights').

With `--model` (the shipped style model, no database): the site's rules on in-memory copies of what
the database holds, for a catalogue index of `--index` validation/test files plus the photographed
paintings that are "in the catalogue" (half of them; the other half are kept out):
* style top-1 of the network (no catalogue vote) on the wall photos, framed and whole, against the
  same paintings as files;
* "already in the catalogue" (recommender.duplicates.is_same_painting on the nearest works, with the
  pHash as the site computes it) and rank 1 among the similar works, for paintings in the index;
* false "already in the catalogue" for paintings kept out of the index, wall photos and files.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
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

KINDS = ["framed"] * 7 + ["dark_border", "two_paintings", "tight_crop"]
SEED_OFFSET = 100_000  # photos here never share a seed with those the detector was tuned on


def catalogue_files() -> tuple[dict[str, Path], dict[str, str], dict]:
    from django.conf import settings

    from recommender.ml.style_model import get_style_model

    root = Path(settings.CATALOGUE_DIR)
    rows = list(csv.DictReader((root / "catalogue.csv").open()))
    split = json.loads((get_style_model().artifact_dir / "split.json").read_text())
    return {r["id"]: root / r["file"] for r in rows}, {r["id"]: r["style"] for r in rows}, split


def photos(ids: list[str], files: dict[str, Path], count: int, without_fall_off: bool = False):
    """(id, photo, the same photo without light fall-off or None) for the first `count` paintings."""
    from recommender.training.wall_photos import wall_photo

    for k, cid in enumerate(ids[:count]):
        kind = KINDS[k % len(KINDS)]
        painting = Image.open(files[cid]).convert("RGB")
        second = Image.open(files[ids[-1 - k]]).convert("RGB") if kind == "two_paintings" else None
        draw = {"seed": SEED_OFFSET + k, "kind": kind, "second": second}
        flat = wall_photo(painting, **draw, fall_off=False) if without_fall_off else None
        yield cid, wall_photo(painting, **draw), flat


def detection(args, files, split) -> None:
    from recommender.framing import decode_for_framing, frame_image
    from recommender.ml.preprocess import load_image
    from recommender.painting_finder import find_painting, quad_iou

    rng = np.random.default_rng(0)
    test = [cid for cid in rng.permutation(split["test"]) if cid in files]
    hits: dict[str, list[bool]] = {}
    framing_ms, before_ms, found_ms = [], [], []
    for _, photo, _ in photos(test, files, args.photos):
        image = photo.image()
        started = time.process_time()
        quad = find_painting(image)
        found_ms.append((time.process_time() - started) * 1000)
        w, h = image.size
        found = quad.array() if quad is not None else np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
        hits.setdefault(photo.kind, []).append(quad_iou(found, photo.corners) >= 0.9)
        # The worker's cost: the framing step (decode, find, warp, model input, the straightened JPEG)
        # against what it replaced (the model's decode and the insights' decode).
        started = time.process_time()
        framing = frame_image(io.BytesIO(photo.jpeg), None)
        if framing.cut_out:
            framing.image.save(io.BytesIO(), format="JPEG", quality=85)
        framing_ms.append((time.process_time() - started) * 1000)
        started = time.process_time()
        load_image(io.BytesIO(photo.jpeg))
        decode_for_framing(io.BytesIO(photo.jpeg))
        before_ms.append((time.process_time() - started) * 1000)
    every = [hit for kind_hits in hits.values() for hit in kind_hits]
    print(f"wall photos of test paintings: {len(every)} at 1600x1200 (or 1200x1600)")
    for kind, kind_hits in sorted(hits.items()):
        print(f"  {kind:14s} {len(kind_hits):4d}  IoU>=0.9: {np.mean(kind_hits):.1%}")
    print(f"  {'all':14s} {len(every):4d}  IoU>=0.9: {np.mean(every):.1%}")
    for part in ("val", "test"):  # the detector's rules were chosen on validation files
        clean = [cid for cid in split[part] if cid in files]
        false = sum(find_painting(Image.open(files[cid]).convert("RGB")) is not None for cid in clean)
        print(f"clean {part} files wrongly cropped: {false} of {len(clean)}")
    print(
        f"CPU ms per photo: detector alone median {statistics.median(found_ms):.1f}; framing step median "
        f"{statistics.median(framing_ms):.1f} (p95 {np.percentile(framing_ms, 95):.1f}) against "
        f"{statistics.median(before_ms):.1f} for the two decodes it replaced: extra "
        f"{statistics.median(framing_ms) - statistics.median(before_ms):.1f} ms"
    )


def recognition(args, files, styles, split) -> None:
    from recommender.duplicates import CANDIDATES, is_same_painting
    from recommender.fingerprint import hamming, phash_of_image
    from recommender.framing import frame_image
    from recommender.insights import HASH_SIDE
    from recommender.ml.preprocess import load_image
    from recommender.ml.style_model import get_style_model
    from recommender.palette import small_rgb

    model = get_style_model()
    rng = np.random.default_rng(1)
    test = [cid for cid in rng.permutation(split["test"]) if cid in files][: args.photos]
    inside = set(test[::2])  # half the photographed paintings are in the index, half kept out
    pool = [cid for cid in rng.permutation(split["val"] + split["test"]) if cid in files and cid not in test]
    index_ids = pool[: args.index] + sorted(inside)

    def embed(batch: list[np.ndarray]) -> np.ndarray:
        _, vectors = model.predict_and_embed(np.stack(batch))
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    started = time.perf_counter()
    vectors, hashes = [], []
    for start in range(0, len(index_ids), 64):
        chunk = index_ids[start : start + 64]
        vectors.append(embed([load_image(files[cid]) for cid in chunk]))
        for cid in chunk:
            with Image.open(files[cid]) as image:
                hashes.append(phash_of_image(small_rgb(image)))
    index = np.concatenate(vectors)
    print(f"index: {len(index_ids)} catalogue files embedded in {time.perf_counter() - started:.0f} s")

    def answer(pixels: np.ndarray, image: Image.Image) -> tuple[int, str | None, str]:
        probs, vector = model.predict_and_embed(pixels[None])
        vector = vector[0] / np.linalg.norm(vector[0])
        small = image.copy()
        small.thumbnail((HASH_SIDE, HASH_SIDE), Image.Resampling.BOX)
        phash = phash_of_image(small)
        similarity = index @ vector
        order = np.argsort(-similarity)[:CANDIDATES]
        same = [
            (hamming(phash, hashes[i]), -similarity[i], index_ids[i])
            for i in order
            if is_same_painting(float(similarity[i]), hamming(phash, hashes[i]))
        ]
        return int(probs[0].argmax()), (min(same)[2] if same else None), index_ids[order[0]]

    keys = ("file", "framed", "whole", "flat", "named", "first", "false_photo", "false_file", "false_whole")
    counts = dict.fromkeys(keys, 0)
    for cid, photo, flat_photo in photos(test, files, args.photos, args.fall_off_bound):
        truth = model.classes.index(styles[cid])
        file_image = Image.open(files[cid]).convert("RGB")
        top, dup_file, _ = answer(load_image(files[cid]), file_image)
        counts["file"] += top == truth
        framing = frame_image(io.BytesIO(photo.jpeg), None)
        top, dup, first = answer(framing.pixels, framing.image)
        counts["framed"] += top == truth
        whole = frame_image(io.BytesIO(photo.jpeg), [])
        top_whole, dup_whole, _ = answer(whole.pixels, whole.image)
        counts["whole"] += top_whole == truth
        if flat_photo is not None:  # the most that evening out the fall-off could gain
            flat = frame_image(io.BytesIO(flat_photo.jpeg), None)
            counts["flat"] += answer(flat.pixels, flat.image)[0] == truth
        if cid in inside:
            counts["named"] += dup == cid
            counts["first"] += first == cid
        else:
            counts["false_photo"] += dup is not None
            counts["false_file"] += dup_file is not None
            counts["false_whole"] += dup_whole is not None
    n, n_in, n_out = len(test), len(inside), len(test) - len(inside)
    print(f"style top-1 (network, no catalogue vote) on {n} test paintings:")
    print(
        f"  as files {counts['file'] / n:.1%}; wall photos framed {counts['framed'] / n:.1%}, "
        f"whole {counts['whole'] / n:.1%}"
        + (f"; framed, drawn without light fall-off {counts['flat'] / n:.1%}" if args.fall_off_bound else "")
    )
    print(f"in the catalogue ({n_in} photos): named 'already in the catalogue' {counts['named'] / n_in:.1%}, "
          f"ranked first among similar works {counts['first'] / n_in:.1%}")  # fmt: skip
    print(f"kept out ({n_out}): false 'already in the catalogue' on wall photos {counts['false_photo']}, "
          f"on the whole photos {counts['false_whole']}, on the files {counts['false_file']}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--model", action="store_true", help="Also the answers (style, recognition)")
    parser.add_argument("--index", type=int, default=2000, help="Catalogue files in the --model index")
    parser.add_argument("--fall-off-bound", action="store_true", help="With --model: also the photos without fall-off")
    args = parser.parse_args()
    import django

    django.setup()
    files, styles, split = catalogue_files()
    if args.model:
        recognition(args, files, styles, split)
    else:
        detection(args, files, split)


if __name__ == "__main__":
    main()
