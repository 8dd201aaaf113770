"""Influence-aware re-ranking of visually similar works.

    final = visual + weight * influence − repeat_penalty * (works of that painter already ranked)

* visual: cosine similarity of embeddings (pgvector).
* influence, for the candidate's painter P against the query's painter Q:
    - P is Q: `same_painter` (related, but less than a direct influence, so the list is not
      only Q's own works);
    - P and Q joined by INFLUENCED_BY edges (either direction) within `max_hops`: 1 / path length;
    - not joined within `max_hops` (every catalogue painter is a graph node): −`unconnected_penalty`;
    - the work is anonymous, or there is no query painter: 0.
* The repeat penalty is applied greedily while building the list: one painter does not fill it.

The query painter is the artwork's own, the one a user names, or else inferred from the visual
neighbours (similarity-weighted vote, kept only with a clear majority). Path lengths come from one
Neo4j query for all candidates; if Neo4j is down the ranking is visual only and says so.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gallery.models import Artist, Artwork

from . import graph
from .search import Neighbour, nearest_artworks

if TYPE_CHECKING:
    import numpy as np  # type hints only: pages import this module and must not load numpy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankingConfig:
    weight: float = 0.1  # how much a full influence score (1.0) adds to a cosine similarity
    same_painter: float = 0.5
    unconnected_penalty: float = 0.25
    repeat_penalty: float = 0.03
    max_hops: int = 4
    candidates: int = 60  # visual neighbours re-ranked; must be well above k
    infer_min_share: float = 0.4  # share of the neighbours' similarity one painter needs to be inferred
    infer_neighbours: int = 10


# What a ranked match is, as a row: the fields of gallery.Match besides `upload`, and of the API's
# MatchSerializer. RankedMatch carries them under the same names, so the page template, the API
# serializer and the predict command read a RankedMatch and a stored Match alike.
MATCH_FIELDS = ("rank", "artwork", "visual_score", "influence_score", "final_score", "influence_path")


@dataclass
class RankedMatch:
    rank: int  # 1 = best
    artwork: Artwork
    visual_score: float
    influence_score: float
    final_score: float
    influence_path: list[str] = field(default_factory=list)

    def as_row(self) -> dict[str, Any]:
        """The match as keyword arguments of gallery.Match (plus `upload`)."""
        return {name: getattr(self, name) for name in MATCH_FIELDS}


@dataclass
class Ranking:
    matches: list[RankedMatch]
    query_artist: Artist | None  # named by the caller, or inferred from the neighbours
    influence_skipped: bool


def infer_painter(neighbours: Sequence[Neighbour], config: RankingConfig) -> Artist | None:
    """The painter who dominates the closest neighbours, if one clearly does."""
    top = neighbours[: config.infer_neighbours]
    weights: dict[int, float] = defaultdict(float)
    painters: dict[int, Artist] = {}
    total = 0.0
    for n in top:
        weight = max(n.similarity, 0.0)
        total += weight
        if n.artwork.artist_id:
            weights[n.artwork.artist_id] += weight
            painters[n.artwork.artist_id] = n.artwork.artist
    if not weights or total <= 0:
        return None
    best = max(weights, key=weights.__getitem__)
    return painters[best] if weights[best] / total >= config.infer_min_share else None


def influence_scores(
    query_artist: Artist | None,
    candidates: Sequence[Neighbour],
    config: RankingConfig,
    *,
    find_paths: Callable[..., dict[str, graph.InfluencePath]] = graph.shortest_paths,
) -> tuple[dict[int, float], dict[int, list[str]]]:
    """Influence score and described path per candidate artwork id. Raises graph.GraphUnavailable.

    `find_paths(source_key, target_keys, max_hops=...)` answers like `graph.shortest_paths` (Neo4j);
    the offline evaluation passes an in-memory search over the same edges, so both score alike.
    """
    scores: dict[int, float] = {}
    paths: dict[int, list[str]] = {}
    if query_artist is None:
        return scores, paths
    others = {
        n.artwork.artist.slug for n in candidates if n.artwork.artist_id and n.artwork.artist_id != query_artist.id
    }
    found = find_paths(query_artist.slug, others, max_hops=config.max_hops)
    for n in candidates:
        painter = n.artwork.artist
        if painter is None:
            scores[n.artwork.id] = 0.0
        elif painter.id == query_artist.id:
            scores[n.artwork.id] = config.same_painter
            paths[n.artwork.id] = [painter.name]
        elif painter.slug in found:
            path = found[painter.slug]
            scores[n.artwork.id] = 1.0 / path.length
            paths[n.artwork.id] = path.describe()
        else:
            scores[n.artwork.id] = -config.unconnected_penalty
    return scores, paths


def rerank(
    neighbours: Sequence[Neighbour],
    *,
    k: int,
    config: RankingConfig,
    scores: dict[int, float],
    paths: dict[int, list[str]],
) -> list[RankedMatch]:
    """Greedy selection by final score with the per-painter repeat penalty (pure; no I/O)."""
    base = {n.artwork.id: n.similarity + config.weight * scores.get(n.artwork.id, 0.0) for n in neighbours}
    remaining = list(neighbours)
    chosen: list[RankedMatch] = []
    seen: dict[int, int] = defaultdict(int)
    while remaining and len(chosen) < k:
        best_i, best_score = 0, -math.inf
        for i, n in enumerate(remaining):
            # Anonymous works are not one painter, so they are never penalised as repeats.
            repeats = seen[n.artwork.artist_id] if n.artwork.artist_id else 0
            score = base[n.artwork.id] - config.repeat_penalty * repeats
            if score > best_score:
                best_i, best_score = i, score
        n = remaining.pop(best_i)
        if n.artwork.artist_id:
            seen[n.artwork.artist_id] += 1
        chosen.append(
            RankedMatch(
                rank=len(chosen) + 1,
                artwork=n.artwork,
                visual_score=n.similarity,
                influence_score=scores.get(n.artwork.id, 0.0),
                final_score=float(best_score),
                influence_path=paths.get(n.artwork.id, []),
            )
        )
    return chosen


def similar_works(
    vector: Sequence[float] | np.ndarray,
    *,
    query_artist: Artist | None = None,
    exclude_ids: Sequence[int] = (),
    k: int = 10,
    config: RankingConfig | None = None,
    use_influence: bool = True,
    nearest: Sequence[Neighbour] | None = None,
    nearest_complete: bool = False,
) -> Ranking:
    """Visual neighbours of `vector` re-ranked by painter influence (see module docstring).

    `nearest`: the vector's nearest works, closest first, when the caller has them (the analysis
    fetched them for the style vote); used if they are enough once `exclude_ids` are left out, or
    are every embedded work (`nearest_complete`), which saves the query."""
    config = config or RankingConfig()
    wanted = max(config.candidates, k)
    excluded = set(exclude_ids)
    if nearest is not None and (nearest_complete or len(nearest) >= wanted + len(excluded)):
        neighbours = [n for n in nearest if n.artwork.pk not in excluded][:wanted]
    else:
        neighbours = nearest_artworks(vector, k=wanted, exclude_ids=exclude_ids)
    if query_artist is None and use_influence:
        query_artist = infer_painter(neighbours, config)
    scores: dict[int, float] = {}
    paths: dict[int, list[str]] = {}
    skipped = False
    if use_influence:
        try:
            scores, paths = influence_scores(query_artist, neighbours, config)
        except graph.GraphUnavailable:
            # Matching must still complete: fall back to visual order and record that we did.
            logger.warning("Neo4j unavailable: influence re-ranking skipped", exc_info=True)
            skipped = True
    if skipped or not use_influence:
        config = replace(config, repeat_penalty=0.0)  # plain visual order
    matches = rerank(neighbours, k=k, config=config, scores=scores, paths=paths)
    return Ranking(matches=matches, query_artist=query_artist, influence_skipped=skipped)
