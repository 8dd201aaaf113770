"""Training data: the catalogue plus the format-balancing pack, and a leak-free split.

Every image carries its *file format* because the catalogue's two sources differ in format and the
split by format follows the styles (shared/data/catalogue/README.md, "Where it came from"):

* ``A``: jalpv1, 224x224 with the aspect ratio squashed away;
* ``B``: eliogrande, letterbox bars cropped, aspect kept, longest side 224 (short side ~170);
* ``R``: RASTA, full resolution resized to 384 px (a few images, neither of the two formats).

The split keeps near-duplicates (perceptual hash) and the pack's ``same_as`` twins on one side, and
holds out whole painters so the report can say how the model does on a painter never seen.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gallery.catalogue_folder import CatalogueFolder

logger = logging.getLogger(__name__)

FORMAT_BY_SOURCE = {"jalpv1": "A", "eliogrande": "B", "bnegreve": "R"}
EXTRA_CSV = "extra.csv"
# The catalogue's own near-duplicate rule (catalogue README, "Duplicates").
PHASH_DUP, PHASH_DUP_WITH_DHASH, DHASH_DUP = 6, 8, 12


@dataclass(frozen=True)
class Painting:
    id: str
    path: Path
    style: str
    artist: str  # "" = unknown
    fmt: str  # "A", "B" or "R"
    same_as: str = ""  # id of the same painting in the other format (pack rows only)
    pack: bool = False  # from the training pack: never in the browsable catalogue


def source_format(source: str) -> str:
    owner = source.split("/", 1)[0]
    return FORMAT_BY_SOURCE.get(owner, "R")


def read_paintings(catalogue_dir: Path, extra_dir: Path | None = None) -> list[Painting]:
    """Catalogue rows (and pack rows when ``extra_dir`` is given) whose image file exists."""
    out: list[Painting] = []
    folders = [(CatalogueFolder(catalogue_dir), False)]
    if extra_dir is not None:
        folders.append((CatalogueFolder(extra_dir, EXTRA_CSV), True))
    for folder, pack in folders:
        for row in folder.catalogue().rows:
            path = folder.image_path(row)
            if not path.is_file():
                logger.warning("missing image %s", path)
                continue
            fmt = row.get("format") or source_format(row["source"])
            out.append(Painting(row["id"], path, row["style"], row["artist"], fmt, row.get("same_as", ""), pack))
    return out


# ---------------------------------------------------------------------------------------------
# Near-duplicates
# ---------------------------------------------------------------------------------------------
def _hash_pair(path: Path) -> tuple[int, int]:
    import imagehash
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGB")
        return int(str(imagehash.phash(img)), 16), int(str(imagehash.dhash(img)), 16)


def perceptual_hashes(paintings: Sequence[Painting], cache_dir: Path | None = None) -> np.ndarray:
    """(N, 2) uint64 pHash/dHash (``imagehash`` defaults, as the catalogue README used), cached."""
    key = hashlib.sha1("\n".join(f"{p.id}:{p.path}" for p in paintings).encode()).hexdigest()[:16]
    cache = cache_dir / f"hashes-{key}.npy" if cache_dir else None
    if cache is not None and cache.is_file():
        return np.load(cache)
    with ThreadPoolExecutor(max_workers=4) as pool:
        hashes = np.array(list(pool.map(_hash_pair, [p.path for p in paintings])), dtype=np.uint64)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, hashes)
    return hashes


def near_duplicate_pairs(hashes: np.ndarray, chunk: int = 512) -> list[tuple[int, int]]:
    """Index pairs (i < j) that the catalogue's rule calls near-duplicates."""
    ph, dh = hashes[:, 0], hashes[:, 1]
    pairs: list[tuple[int, int]] = []
    for start in range(0, len(ph), chunk):
        dp = np.bitwise_count(ph[start : start + chunk, None] ^ ph[None, :])
        dd = np.bitwise_count(dh[start : start + chunk, None] ^ dh[None, :])
        hit = (dp <= PHASH_DUP) | ((dp <= PHASH_DUP_WITH_DHASH) & (dd <= DHASH_DUP))
        for i, j in zip(*np.nonzero(hit), strict=True):
            if start + i < j:
                pairs.append((int(start + i), int(j)))
    return pairs


def _groups(n: int, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """Connected components (union-find) of ``pairs`` over ``n`` items: a group id per item."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        parent[find(i)] = find(j)
    return np.array([find(i) for i in range(n)])


# ---------------------------------------------------------------------------------------------
# Split
# ---------------------------------------------------------------------------------------------
@dataclass
class Split:
    """Ids per part. ``val``/``test`` hold new paintings by known (or unknown) painters;
    ``val_unseen``/``test_unseen`` hold every work of painters absent from training."""

    parts: dict[str, list[str]]
    near_duplicate_pairs: int
    held_out_painters: dict[str, list[str]]

    def to_json(self) -> str:
        return json.dumps(
            {
                "rule": "near-duplicates (pHash<=6, or <=8 with dHash<=12) and same_as twins on one side; "
                "whole painters held out for the *_unseen parts",
                "near_duplicate_pairs": self.near_duplicate_pairs,
                "held_out_painters": self.held_out_painters,
                **self.parts,
            },
            indent=1,
        )


def make_split(
    paintings: Sequence[Painting],
    hashes: np.ndarray,
    *,
    seed: int,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    unseen_painter_fraction: float = 0.05,
) -> Split:
    """Group-aware split, reproducible from ``seed``.

    1. Whole painters (named ones only) are drawn until their works make up about
       ``unseen_painter_fraction`` of the named works for val and as much again for test; the
       painter who alone carries most of a style's named works is never drawn, so every style keeps
       training data.
    2. Everything else is grouped (near-duplicates and ``same_as`` twins joined) and the groups are
       dealt to train/val/test within each style, so the parts keep the style mix.
    """
    rng = np.random.default_rng(seed)
    index = {p.id: i for i, p in enumerate(paintings)}
    pairs = near_duplicate_pairs(hashes)
    links = list(pairs) + [(index[p.id], index[p.same_as]) for p in paintings if p.same_as in index]
    group = _groups(len(paintings), links)

    # Painters that share a near-duplicate group with another painter stay on the training side:
    # holding one out would leak the shared image.
    works: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(paintings):
        if p.artist:
            works[p.artist].append(i)
    group_painters: dict[int, set[str]] = defaultdict(set)
    for i, p in enumerate(paintings):
        group_painters[group[i]].add(p.artist)
    style_named = defaultdict(int)
    for p in paintings:
        if p.artist:
            style_named[p.style] += 1
    candidates = []
    for name, idx in works.items():
        if any(len(group_painters[group[i]]) > 1 for i in idx):
            continue
        styles = {paintings[i].style for i in idx}
        # A painter holding over a quarter of a style's named works stays in training.
        if any(sum(paintings[i].style == s for i in idx) > 0.25 * style_named[s] for s in styles):
            continue
        candidates.append(name)
    candidates.sort()
    rng.shuffle(candidates)
    n_named = sum(len(v) for v in works.values())
    held: dict[str, list[str]] = {"val_unseen": [], "test_unseen": []}
    budget = unseen_painter_fraction * n_named
    for part in ("val_unseen", "test_unseen"):
        taken = 0
        while candidates and taken < budget:
            name = candidates.pop()
            held[part].append(name)
            taken += len(works[name])
    painter_part = {name: part for part, names in held.items() for name in names}

    parts: dict[str, list[str]] = {k: [] for k in ("train", "val", "test", "val_unseen", "test_unseen")}
    rest_groups: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    group_style: dict[int, str] = {}
    for i, p in enumerate(paintings):
        if p.artist in painter_part:
            parts[painter_part[p.artist]].append(p.id)
        else:
            # A group is dealt by the style of its first member: a painting filed twice under two
            # styles must still land on one side.
            style = group_style.setdefault(group[i], p.style)
            rest_groups[style][group[i]].append(i)
    for style in sorted(rest_groups):
        gids = sorted(rest_groups[style])
        rng.shuffle(gids)
        total = sum(len(rest_groups[style][g]) for g in gids)
        seen = 0
        for g in gids:
            members = rest_groups[style][g]
            frac = seen / total
            part = "val" if frac < val_fraction else "test" if frac < val_fraction + test_fraction else "train"
            parts[part].extend(paintings[i].id for i in members)
            seen += len(members)
    # Pack images are dealt like the rest: held-out format-B Baroque/Impressionism is what the
    # format probe and the format-swap check need, and twins stay together through their group.
    return Split({k: sorted(v) for k, v in parts.items()}, len(pairs), held)


def class_weights(labels: np.ndarray, n_classes: int, power: float) -> np.ndarray:
    """Per-class weights (count/mean)^-power, normalised so the average sample weight is 1."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    w = (counts.mean() / np.maximum(counts, 1)) ** power
    w /= (w[labels]).mean()
    return w.astype(np.float32)
