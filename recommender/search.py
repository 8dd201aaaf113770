"""Visual nearest-neighbour search over catalogue embeddings with pgvector's HNSW index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from pgvector.django import CosineDistance

from gallery.models import Artwork

if TYPE_CHECKING:
    import numpy as np  # type hints only: pages search without loading numpy


@dataclass(frozen=True)
class Neighbour:
    artwork: Artwork
    similarity: float  # cosine similarity, 1 = same direction


def nearest_artworks(
    vector: Sequence[float] | np.ndarray,
    *,
    k: int = 10,
    exclude_ids: Sequence[int] = (),
    ef_search: int | None = None,
    exact: bool = False,
) -> list[Neighbour]:
    """The k catalogue artworks closest to `vector` by cosine distance.

    Uses the HNSW index with `hnsw.ef_search` set for this query only (SET LOCAL inside a
    transaction): the default of 40 loses recall once the candidate list is larger than k.
    `exact=True` disables index scans, for recall measurements.
    """
    return nearest_artworks_many([vector], k=k, exclude_ids=exclude_ids, ef_search=ef_search, exact=exact)[0]


def nearest_artworks_many(
    vectors: Sequence[Sequence[float] | np.ndarray],
    *,
    k: int = 10,
    exclude_ids: Sequence[int] = (),
    ef_search: int | None = None,
    exact: bool = False,
) -> list[list[Neighbour]]:
    """`nearest_artworks` of each vector, in one transaction: a batch's uploads pay the transaction
    and its settings once, one statement each (five each before, issue 19)."""
    ef = ef_search or settings.HNSW_EF_SEARCH
    queries = [
        Artwork.objects.filter(embedding__isnull=False)
        .exclude(id__in=list(exclude_ids))
        .select_related("artist", "style")
        .defer("embedding")  # 1280 floats per row to parse, and the caller has the distance already
        .annotate(distance=CosineDistance("embedding", list(map(float, vector))))
        .order_by("distance")[:k]
        for vector in vectors
    ]
    if not queries:
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        # ef_search must cover k, or HNSW returns fewer rows than asked for.
        cursor.execute("SET LOCAL hnsw.ef_search = %s", [max(int(ef), k)])
        # Rows dropped after the index scan (excluded ids, and the dead entries a style-model switch
        # leaves in the graph until VACUUM) would otherwise make the answer short: a plain HNSW scan
        # stops after ef_search candidates. Measured after a switch of 11,670 works: 21 of 200
        # answers short without, none with, p50 +0.8 ms (bench/bench_switch.py, docs/operations.md).
        cursor.execute("SET LOCAL hnsw.iterative_scan = strict_order")
        if exact:
            cursor.execute("SET LOCAL enable_indexscan = off")
        found = [list(query) for query in queries]
    return [[Neighbour(artwork=a, similarity=1.0 - float(a.distance)) for a in rows] for rows in found]
