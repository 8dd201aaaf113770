"""Dominant colours of a painting: k-means in CIELAB on a downscaled copy, deterministic, with names.

The catalogue fill (`fill_palettes`, and embedding runs) also stores each work's perceptual hash
(recommender.fingerprint) from the same decode, for the "already in the catalogue" check.

Used by workers (an upload's analyse step) and commands (`fill_palettes`, the catalogue import);
never by pages, which read stored palettes. numpy only, no TensorFlow.

Why these choices: Lab distances follow perceived differences (k-means in RGB splits greys and
merges distinct earth tones); 64 pixels a side keeps ~4,000 samples, plenty for six clusters and
a few milliseconds of work; a fixed seed and a fixed pixel order make the result identical on
every run, so stored palettes never drift.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import BinaryIO

import numpy as np
from django.db import transaction
from django.db.models import Q
from PIL import Image

from gallery.models import Artwork

from .colour import RGB_TO_XYZ, WHITE_X, WHITE_Y, WHITE_Z, Lab, colour_name, lab_cell, lab_to_rgb, rgb_to_hex
from .fingerprint import phash_of_image
from .models import ArtworkColour, ArtworkFingerprint, ArtworkPalette

PALETTE_SIZE = 6
SAMPLE_SIDE = 64
MAX_ITERATIONS = 30
# Clusters closer than this (ΔE76) read as one colour and are merged; smaller ones are dropped.
MERGE_BELOW_DELTA_E = 6.0
MIN_SHARE = 0.02
SEED = 20261126


@dataclass(frozen=True)
class PaletteColour:
    hex: str
    name: str
    share: float  # fraction of the painting's pixels, 0..1; a palette's shares sum to 1
    l: float  # noqa: E741 - L*, the CIE name
    a: float
    b: float

    def as_dict(self) -> dict[str, float | str]:
        return asdict(self)


_LEVELS = np.arange(256, dtype=np.float64) / 255.0
_SRGB_TO_LINEAR = np.where(_LEVELS <= 0.04045, _LEVELS / 12.92, ((_LEVELS + 0.055) / 1.055) ** 2.4)


def rgb_array_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 sRGB → (N, 3) float Lab (D65), the same formulas as recommender.colour."""
    linear = _SRGB_TO_LINEAR[rgb]  # a 256-entry table: the power law once per level, not per pixel
    xyz = linear @ np.asarray(RGB_TO_XYZ).T / np.array([WHITE_X, WHITE_Y, WHITE_Z])
    delta = 6 / 29
    f = np.where(xyz > delta**3, np.cbrt(xyz), xyz / (3 * delta**2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def small_rgb(image: Image.Image) -> Image.Image:
    """An RGB copy at least 128 pixels a side where possible, decoded cheaply (JPEG DCT scaling)."""
    if image.format == "JPEG":
        image.draft("RGB", (SAMPLE_SIDE * 2, SAMPLE_SIDE * 2))  # decode a small copy only
    return image.convert("RGB")


def _sample(image: Image.Image, side: int = SAMPLE_SIDE) -> np.ndarray:
    """The painting as (N, 3) uint8 RGB pixels of a copy at most `side` pixels a side."""
    image = small_rgb(image)
    image.thumbnail((side, side), Image.Resampling.BOX)
    return np.asarray(image, dtype=np.uint8).reshape(-1, 3)


def _kmeans_pp_init(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centres = [points[rng.integers(len(points))]]
    d2 = ((points - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = d2.sum()
        if total == 0:  # fewer distinct colours than k
            break
        centres.append(points[rng.choice(len(points), p=d2 / total)])
        d2 = np.minimum(d2, ((points - centres[-1]) ** 2).sum(axis=1))
    return np.asarray(centres)


def _sq_distances(points: np.ndarray, centres: np.ndarray, points_sq: np.ndarray) -> np.ndarray:
    """(N, K) squared distances as |x|² − 2x·c + |c|² (one matrix product instead of an (N, K, 3) array)."""
    return points_sq[:, None] - 2.0 * points @ centres.T + (centres**2).sum(axis=1)[None, :]


def kmeans(points: np.ndarray, k: int, *, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with k-means++ seeding: (centres, pixel counts per centre). Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    centres = _kmeans_pp_init(points, k, rng).astype(np.float64)
    points_sq = (points**2).sum(axis=1)
    labels = np.full(len(points), -1, dtype=np.int64)
    for _ in range(MAX_ITERATIONS):
        new_labels = _sq_distances(points, centres, points_sq).argmin(axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        counts = np.bincount(labels, minlength=len(centres))
        sums = np.stack([np.bincount(labels, weights=points[:, d], minlength=len(centres)) for d in range(3)], axis=1)
        filled = counts > 0  # an emptied cluster keeps its centre (and ends with no pixels)
        centres[filled] = sums[filled] / counts[filled, None]
    counts = np.bincount(labels, minlength=len(centres))
    return centres, counts


def _merge_close(centres: np.ndarray, counts: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Merge clusters closer than MERGE_BELOW_DELTA_E, biggest first, weighting centres by pixel count."""
    order = np.argsort(-counts, kind="stable")
    merged: list[tuple[np.ndarray, int]] = []
    for j in order:
        if counts[j] == 0:
            continue
        for i, (centre, count) in enumerate(merged):
            if np.linalg.norm(centre - centres[j]) < MERGE_BELOW_DELTA_E:
                total = count + counts[j]
                merged[i] = ((centre * count + centres[j] * counts[j]) / total, int(total))
                break
        else:
            merged.append((centres[j].astype(np.float64), int(counts[j])))
    return merged


def palette_of_image(
    image: Image.Image, k: int = PALETTE_SIZE, *, sample_side: int = SAMPLE_SIDE
) -> list[PaletteColour]:
    """The painting's dominant colours (at most k, usually 5–6), largest share first, from a copy at
    most `sample_side` pixels a side (the catalogue's stored palettes use SAMPLE_SIDE; a smaller
    side is cheaper, k-means costing about linearly in the pixels, and a little less exact)."""
    pixels = _sample(image, sample_side)
    if not len(pixels):
        raise ValueError("the image has no pixels")
    lab = rgb_array_to_lab(pixels)
    centres, counts = kmeans(lab, k)
    clusters = [(c, n) for c, n in _merge_close(centres, counts) if n / len(lab) >= MIN_SHARE]
    total = sum(n for _, n in clusters)
    colours = []
    for centre, count in sorted(clusters, key=lambda pair: -pair[1]):
        lab_value = Lab(*(round(float(v), 2) for v in centre))
        colours.append(
            PaletteColour(
                hex=rgb_to_hex(lab_to_rgb(lab_value)),
                name=colour_name(lab_value),
                share=round(count / total, 4),
                l=lab_value.l,
                a=lab_value.a,
                b=lab_value.b,
            )
        )
    return colours


def palette_of_file(handle: BinaryIO | str) -> list[PaletteColour]:
    """Palette of an image file (path or open binary file); OSError/ValueError for unreadable images."""
    with Image.open(handle) as image:
        return palette_of_image(image)


# --- Storing catalogue palettes (services) -----------------------------------------------------------


@dataclass
class FillReport:
    computed: int
    failed: list[tuple[int, str]]
    seconds: float


def artwork_palette_store(*, artwork_id: int, colours: list[PaletteColour], error: str = "", phash: str = "") -> None:
    """Replace one artwork's stored palette (display JSON and the Lab rows search reads) and, when
    given, its perceptual hash, atomically."""
    with transaction.atomic():
        if phash:
            ArtworkFingerprint.objects.update_or_create(artwork_id=artwork_id, defaults={"phash": phash})
        palette, _ = ArtworkPalette.objects.update_or_create(
            artwork_id=artwork_id, defaults={"colours": [c.as_dict() for c in colours], "error": error[:500]}
        )
        palette.rows.all().delete()
        ArtworkColour.objects.bulk_create(
            ArtworkColour(
                palette=palette, rank=i, l=c.l, a=c.a, b=c.b, share=c.share, cell=lab_cell(Lab(c.l, c.a, c.b))
            )
            for i, c in enumerate(colours)
        )


def palette_and_phash_of_file(handle: BinaryIO | str) -> tuple[list[PaletteColour], str]:
    """Palette and perceptual hash from one decode of the file (the catalogue fill and uploads use both)."""
    with Image.open(handle) as image:
        rgb = small_rgb(image)
        return palette_of_image(rgb), phash_of_image(rgb)


def _analyse_or_error(artwork) -> tuple[list[PaletteColour], str] | str:
    try:
        with artwork.image.open("rb") as handle:
            return palette_and_phash_of_file(handle)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return f"{exc.__class__.__name__}: {exc}"[:500]


def artworks_needing_palette():
    """Works with no palette, or a palette but no perceptual hash (stored before hashes existed)."""
    missing = Q(palette__isnull=True) | Q(fingerprint__isnull=True, palette__error="")
    return Artwork.objects.filter(missing).order_by("id")


def catalogue_fill_palettes(
    *,
    ids: list[int] | None = None,
    recompute: bool = False,
    only_missing: bool = False,
    limit: int | None = None,
    progress=None,
) -> FillReport:
    """Compute and store palettes of catalogue works: those without one, or `ids`, or all with `recompute`.

    With `ids` and `only_missing`, only those of `ids` that have no palette yet (the embedding run's
    case: a new model version re-embeds works whose images, and so palettes, did not change).

    Resumable by state: each artwork is stored as soon as it is done, so an interrupted run goes on
    where it stopped. An unreadable image is stored with its error (and skipped by later runs).
    """
    started = time.perf_counter()
    missing = only_missing or not (recompute or ids is not None)
    qs = artworks_needing_palette() if missing else Artwork.objects.order_by("id")
    if ids is not None:
        qs = qs.filter(id__in=ids)
    artworks = list(qs.only("id", "image")[:limit] if limit is not None else qs.only("id", "image"))
    computed, failed = 0, []
    # Decoding is C code that releases the GIL: two threads keep two cores busy.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for artwork, result in zip(artworks, pool.map(_analyse_or_error, artworks), strict=True):
            if isinstance(result, str):
                artwork_palette_store(artwork_id=artwork.id, colours=[], error=result)
                failed.append((artwork.id, result))
            else:
                colours, phash = result
                artwork_palette_store(artwork_id=artwork.id, colours=colours, phash=phash)
                computed += 1
            if progress is not None:
                progress(1)
    return FillReport(computed=computed, failed=failed, seconds=time.perf_counter() - started)
