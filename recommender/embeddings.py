"""Catalogue embeddings: compute what is missing or stale, store it in pgvector.

Resumable by state: a run picks the artworks without an embedding of the current model version,
commits batch by batch, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction
from django.db.models import Q, QuerySet

from gallery.models import Artwork
from recommender.ml.preprocess import load_image

# Above this many rows to (re)write, dropping the HNSW index and building it once afterwards is
# faster than updating the graph row by row.
REBUILD_INDEX_ABOVE = 2000
HNSW_INDEX_NAME = "artwork_embedding_hnsw"


@dataclass
class EmbedReport:
    embedded: int
    failed: list[tuple[int, str]]
    seconds: float
    index_rebuilt: bool

    @property
    def images_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds else 0.0


def artworks_needing_embedding(version: str) -> QuerySet[Artwork]:
    return Artwork.objects.filter(Q(embedding__isnull=True) | ~Q(embedding_version=version)).order_by("id")


def _decode(artwork: Artwork) -> np.ndarray | str:
    try:
        with artwork.image.open("rb") as handle:
            return load_image(handle)
    except (OSError, ValueError, SyntaxError) as exc:
        return f"{exc.__class__.__name__}: {exc}"


def _decoded_batches(
    artworks: Sequence[Artwork], batch: int, pool: ThreadPoolExecutor
) -> Iterator[tuple[list[Artwork], list]]:
    """Yield decoded batches while the next batch is already being decoded (overlaps inference)."""
    chunks = [artworks[i : i + batch] for i in range(0, len(artworks), batch)]
    pending = pool.map(_decode, chunks[0]) if chunks else None
    for i, chunk in enumerate(chunks):
        decoded = list(pending)
        pending = pool.map(_decode, chunks[i + 1]) if i + 1 < len(chunks) else None
        yield list(chunk), decoded


def _hnsw_index():
    return next(index for index in Artwork._meta.indexes if index.name == HNSW_INDEX_NAME)


def _index_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [HNSW_INDEX_NAME])
        return cursor.fetchone() is not None


def ensure_hnsw_index() -> None:
    if not _index_exists():
        with connection.schema_editor() as editor:
            editor.add_index(Artwork, _hnsw_index())


def catalogue_embed(
    *, model, batch: int = 32, limit: int | None = None, progress: Callable[[int], None] | None = None
) -> EmbedReport:
    """Embed every artwork lacking an embedding of `model.version` (a StyleModel or alike)."""
    version = model.version
    ids = list(artworks_needing_embedding(version).values_list("id", flat=True)[:limit])
    rebuild = len(ids) > REBUILD_INDEX_ABOVE and _index_exists()
    if rebuild:
        with connection.schema_editor() as editor:
            editor.remove_index(Artwork, _hnsw_index())
    model.load()
    started = time.perf_counter()
    embedded, failed = 0, []
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            artworks = list(Artwork.objects.filter(id__in=ids).only("id", "image").order_by("id"))
            for chunk, decoded in _decoded_batches(artworks, batch, pool):
                good = [(a, img) for a, img in zip(chunk, decoded, strict=True) if not isinstance(img, str)]
                failed += [(a.id, img) for a, img in zip(chunk, decoded, strict=True) if isinstance(img, str)]
                if good:
                    vectors = model.embed(np.stack([img for _, img in good]))
                    for (artwork, _), vector in zip(good, vectors, strict=True):
                        artwork.embedding = vector
                        artwork.embedding_version = version
                    with transaction.atomic():
                        Artwork.objects.bulk_update([a for a, _ in good], ["embedding", "embedding_version"])
                    embedded += len(good)
                if progress:
                    progress(len(chunk))
    finally:
        seconds = time.perf_counter() - started
        if rebuild:
            ensure_hnsw_index()
    return EmbedReport(embedded=embedded, failed=failed, seconds=seconds, index_rebuilt=rebuild)
