"""Catalogue embeddings: compute what is missing or stale, store it in pgvector.

Resumable by state: a run picks the artworks without an embedding of the active model version
(or, for a version switch, without a staged vector of the new one) and commits batch by batch,
so an interrupted run continues where it stopped. Workers and commands import this, never pages.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction
from django.db.models import Q, QuerySet

from gallery.models import Artwork, ArtworkEmbedding
from recommender import versions
from recommender.ml.preprocess import load_image
from recommender.palette import catalogue_fill_palettes

# Above this many rows to (re)write, dropping the HNSW index and building it once afterwards is
# faster than updating the graph row by row.
REBUILD_INDEX_ABOVE = 2000
HNSW_INDEX_NAME = "artwork_embedding_hnsw"


class VersionChanged(RuntimeError):
    """The active style model changed while vectors of the previous one were being computed."""


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
        return f"{exc.__class__.__name__}: {exc}"[:500]


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


def _embedded_batches(
    model, ids: Sequence[int], batch: int
) -> Iterator[tuple[list[tuple[Artwork, np.ndarray]], list[tuple[int, str]]]]:
    """(artwork, vector) pairs and (id, reason) failures, batch by batch, decoding ahead of the model."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        artworks = list(Artwork.objects.filter(id__in=ids).only("id", "image").order_by("id"))
        for chunk, decoded in _decoded_batches(artworks, batch, pool):
            good = [(a, img) for a, img in zip(chunk, decoded, strict=True) if not isinstance(img, str)]
            failed = [(a.id, img) for a, img in zip(chunk, decoded, strict=True) if isinstance(img, str)]
            vectors = model.embed(np.stack([img for _, img in good])) if good else []
            yield [(a, v) for (a, _), v in zip(good, vectors, strict=True)], failed


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


def _store_active(version: str, pairs: list[tuple[Artwork, np.ndarray]], failed: list[tuple[int, str]]) -> None:
    """Write active-version vectors, unless a switch to another version committed meanwhile."""
    with transaction.atomic():
        versions.lock_shared()
        if versions.active_version() != version:
            raise VersionChanged(f"the active style model is no longer {version}; nothing written")
        for artwork, vector in pairs:
            artwork.embedding, artwork.embedding_version, artwork.embedding_error = vector, version, ""
        Artwork.objects.bulk_update([a for a, _ in pairs], ["embedding", "embedding_version", "embedding_error"])
        for artwork_id, reason in failed:
            # A vector of the previous image would be wrong for the new one: none until it is fixed.
            Artwork.objects.filter(pk=artwork_id).update(embedding=None, embedding_version="", embedding_error=reason)


def catalogue_embed(
    *, model, batch: int = 32, limit: int | None = None, progress: Callable[[int], None] | None = None
) -> EmbedReport:
    """Embed every artwork lacking an embedding of `model.version`, which must be the active version.

    Raises ValueError for another version (use `activate_style_model`, which embeds beside the
    active vectors) and VersionChanged when a switch commits mid-run (what was written stays valid
    until the switch replaced it; re-run to continue with the new version).
    """
    version = model.version
    active = versions.ensure_active_recorded()
    if version != active:
        raise ValueError(
            f"{version} is not the active style model ({active}); switch with manage.py activate_style_model {version}"
        )
    ids = list(artworks_needing_embedding(version).values_list("id", flat=True)[:limit])
    rebuild = len(ids) > REBUILD_INDEX_ABOVE and _index_exists()
    if rebuild:
        with connection.schema_editor() as editor:
            editor.remove_index(Artwork, _hnsw_index())
    model.load()
    started = time.perf_counter()
    embedded, failed_all = 0, []
    try:
        for pairs, failed in _embedded_batches(model, ids, batch):
            _store_active(version, pairs, failed)
            # Palettes come from the same images: new works become searchable by colour in the same run.
            catalogue_fill_palettes(ids=[artwork.id for artwork, _ in pairs], only_missing=True)
            embedded += len(pairs)
            failed_all += failed
            if progress:
                progress(len(pairs) + len(failed))
    finally:
        seconds = time.perf_counter() - started
        if rebuild:
            ensure_hnsw_index()
    return EmbedReport(embedded=embedded, failed=failed_all, seconds=seconds, index_rebuilt=rebuild)


def catalogue_stage(*, model, batch: int = 32, progress: Callable[[int], None] | None = None) -> EmbedReport:
    """Embed every artwork lacking a staged vector of `model.version` into ArtworkEmbedding.

    Search is untouched (the staged table has no vector index); resumable by state.
    """
    version = model.version
    ids = list(versions.artworks_missing_version(version).values_list("id", flat=True))
    model.load()
    started = time.perf_counter()
    embedded, failed_all = 0, []
    for pairs, failed in _embedded_batches(model, ids, batch):
        ArtworkEmbedding.objects.bulk_create(
            [ArtworkEmbedding(artwork=a, version=version, vector=v) for a, v in pairs],
            update_conflicts=True,
            unique_fields=["artwork", "version"],
            update_fields=["vector"],
        )
        embedded += len(pairs)
        failed_all += failed
        if progress:
            progress(len(pairs) + len(failed))
    return EmbedReport(embedded=embedded, failed=failed_all, seconds=time.perf_counter() - started, index_rebuilt=False)


def artwork_embed(*, artwork_id: int) -> str:
    """Embed one artwork with the active model (and with a version being switched to, if any).

    Returns "embedded" or "failed" (the reason is stored on the artwork). Raises VersionChanged
    when a switch committed while computing: the caller retries with the new active model.
    """
    artwork = Artwork.objects.only("id", "image").get(pk=artwork_id)
    model = versions.active_style_model()
    decoded = _decode(artwork) if artwork.image else "no image"
    if isinstance(decoded, str):
        _store_active(model.version, [], [(artwork_id, decoded)])
        return "failed"
    vector = model.embed(decoded[None])[0]
    _store_active(model.version, [(artwork, vector)], [])
    catalogue_fill_palettes(ids=[artwork_id])  # a new or replaced image: its palette is (re)computed too
    pending = versions.version_pending()
    if pending and pending != model.version:
        staged = versions.style_model_for(pending).embed(decoded[None])[0]
        ArtworkEmbedding.objects.update_or_create(artwork_id=artwork_id, version=pending, defaults={"vector": staged})
    return "embedded"
