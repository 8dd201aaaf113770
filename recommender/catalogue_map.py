"""The catalogue map: a 2-D t-SNE layout of the catalogue embeddings, computed by a command and stored.

Commands import this (numpy, openTSNE); pages read the stored points through recommender.map_read.

Why t-SNE (openTSNE) rather than UMAP: openTSNE needs only numpy/scipy (UMAP pulls numba and
llvmlite, a heavy JIT in every install), its FFT-accelerated gradients lay out 11,670 points in
about a minute on two cores, and it keeps local neighbourhoods, which is what a map for browsing
needs: works next to each other look alike. Global distances on a t-SNE map mean little, so the
page says "near = similar", never "far = different". The layout is deterministic for a seed (PCA
initialisation), so rebuilding with the same vectors gives the same map.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from django.db import transaction

from gallery.models import Artwork

from .models import MapLayout, MapPoint

SEED = 20261126
PERPLEXITY = 30
# Bulk insert in chunks: one statement for 11,670 rows would be one huge parameter list.
INSERT_BATCH = 2000
MIN_POINTS = 5


class NotEnoughPoints(ValueError):
    """Fewer embedded works than a layout needs (the message says how many there are)."""


# openTSNE's defaults: 250 iterations of early exaggeration, then 500 of the normal phase.
TOTAL_ITERATIONS = 750
CALLBACK_EVERY = 25


def _progress_callback(progress: Callable[[int], None]) -> Callable[..., bool]:
    """openTSNE stops optimising when a callback returns True (tqdm's update() returns True when it
    redraws), so the callback reports progress and always answers "go on"."""

    def callback(iteration: int, error: float, embedding: object) -> bool:
        progress(CALLBACK_EVERY)
        return False

    return callback


def compute_layout(
    vectors: np.ndarray,
    *,
    perplexity: float = PERPLEXITY,
    seed: int = SEED,
    n_jobs: int = 2,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """(N, D) vectors → (N, 2) coordinates scaled into [0, 1], aspect ratio kept, centred.

    `progress(n)` is called with the number of optimisation iterations done since the last call.
    """
    from openTSNE import TSNE

    n = len(vectors)
    if n < MIN_POINTS:
        raise NotEnoughPoints(f"a map needs at least {MIN_POINTS} embedded works, there are {n}")
    # Perplexity must stay below N/3 or the affinities are undefined; small catalogues (tests, demo) need less.
    perplexity = min(perplexity, max(2.0, (n - 1) / 3.0))
    embedding = TSNE(
        n_components=2,
        perplexity=perplexity,
        metric="cosine",  # the same distance the similar-works search uses
        initialization="pca",
        random_state=seed,
        n_jobs=n_jobs,
        verbose=False,
        callbacks=_progress_callback(progress) if progress else None,
        callbacks_every_iters=CALLBACK_EVERY,
    ).fit(np.asarray(vectors, dtype=np.float32))
    coords = np.asarray(embedding, dtype=np.float64)
    coords -= coords.min(axis=0)
    span = coords.max()
    if span > 0:
        coords /= span
    coords += (1.0 - coords.max(axis=0)) / 2.0  # centre the shorter axis
    return coords


def catalogue_map_build(
    *,
    version: str,
    perplexity: float = PERPLEXITY,
    seed: int = SEED,
    log: Callable[[str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> MapLayout:
    """Lay out every work embedded with `version` and store the layout, replacing that version's previous one."""
    import openTSNE

    rows = list(
        Artwork.objects.filter(embedding__isnull=False, embedding_version=version)
        .order_by("id")
        .values_list("id", "embedding")
    )
    if log:
        log(f"map: {len(rows)} works embedded with {version}")
    ids = [artwork_id for artwork_id, _ in rows]
    vectors = np.stack([np.asarray(vector, dtype=np.float32) for _, vector in rows]) if rows else np.zeros((0, 1))
    started = time.perf_counter()
    coords = compute_layout(vectors, perplexity=perplexity, seed=seed, progress=progress)
    seconds = time.perf_counter() - started
    if log:
        log(f"map: layout computed in {seconds:.1f} s")
    with transaction.atomic():
        MapLayout.objects.filter(model_version=version).delete()
        layout = MapLayout.objects.create(
            model_version=version,
            method=f"openTSNE {openTSNE.__version__}",
            params={"perplexity": perplexity, "seed": seed, "metric": "cosine", "initialization": "pca"},
            point_count=len(ids),
            seconds=round(seconds, 2),
        )
        points = [
            MapPoint(layout=layout, artwork_id=artwork_id, x=float(x), y=float(y))
            for artwork_id, (x, y) in zip(ids, coords, strict=True)
        ]
        MapPoint.objects.bulk_create(points, batch_size=INSERT_BATCH)
    return layout
