"""Offline retrieval evaluation of embeddings, with and without influence re-ranking.

Plain numpy on feature matrices; no database. The catalogue part (train + val of the style split)
is searched with the query part (test split, paintings no model trained on) by exact cosine
similarity. Reported per feature set:

* precision@k of the same style, over every query;
* precision@k of the same painter, over the queries with a known painter (neighbours without a
  painter count as misses);
* both again after :func:`recommender.ranking.rerank` with :class:`~recommender.ranking.RankingConfig`
  defaults: ``config.candidates`` visual neighbours re-ranked to ``k``. The query painter is the
  query painting's own (as on an artwork's "similar" page); without one the influence scores are
  empty and only the repeat penalty acts, as in ``similar_works``.

Influence distances. In production ``ranking.influence_scores`` asks Neo4j
(``graph.shortest_paths``: shortest ``INFLUENCED_BY`` path ignoring direction, at most
``max_hops``). Here the same distances come from a breadth-first search over ``influences.csv``
held in memory (:class:`InfluenceGraph`, same contract as ``graph.shortest_paths``), handed to
``ranking.influence_scores`` itself, so the scoring rules are the production ones.
``bench/evaluate.py --check-neo4j`` compares the BFS paths with Neo4j's, and the tests do too.

``recommender.ranking`` imports the Django models, so the functions that re-rank need Django set
up (``django.setup()``); nothing here queries the database.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gallery.catalogue_folder import read_table
from recommender.graph import InfluencePath
from recommender.ml.style_model import ARTIFACTS_ROOT as STYLE_ROOT
from recommender.ml.style_model import resolve_artifact_dir
from recommender.ranking import RankingConfig, influence_scores, rerank


# ---------------------------------------------------------------------------------------------
# Split
# ---------------------------------------------------------------------------------------------
def load_split(style_artifact: Path | None = None) -> tuple[dict[str, list[str]], str]:
    """The style model's split (``train``, ``val``, ``test`` and, for models trained since the
    format-invariance work, ``val_unseen``/``test_unseen``: painters never seen in training), and
    where it came from: the ``split.json`` of the style artefact (default: the one ``CURRENT``
    names). The split is only ever read from an artefact: recomputing it needs the perceptual hashes
    and the training pack, and a drifted recomputation would leak training images into queries.
    """
    split_file = resolve_artifact_dir(style_artifact or STYLE_ROOT / "current") / "split.json"
    split = json.loads(split_file.read_text(encoding="utf-8")) if split_file.is_file() else {}
    if not split.get("train"):
        raise FileNotFoundError(f"{split_file} lists no split ids")
    parts = ("train", "val", "test", "val_unseen", "test_unseen")
    return {part: list(split.get(part, [])) for part in parts}, str(split_file)


# ---------------------------------------------------------------------------------------------
# Influence graph (offline stand-in for recommender.graph.shortest_paths)
# ---------------------------------------------------------------------------------------------
@dataclass
class InfluenceGraph:
    """Painters joined by influence edges; ``edges`` holds (artist, influenced_by) name pairs."""

    edges: set[tuple[str, str]] = field(default_factory=set)
    neighbours: dict[str, set[str]] = field(default_factory=dict)
    _cache: dict[tuple[str, int], dict[str, InfluencePath]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_edges(cls, edges: Iterable[tuple[str, str]]) -> InfluenceGraph:
        g = cls()
        for artist, influencer in edges:
            if not artist or not influencer or artist == influencer:
                continue  # the importer skips these too (Influence has a not-self constraint)
            g.edges.add((artist, influencer))
            g.neighbours.setdefault(artist, set()).add(influencer)
            g.neighbours.setdefault(influencer, set()).add(artist)
        return g

    @classmethod
    def from_csv(cls, path: Path) -> InfluenceGraph:
        """``influences.csv`` (``artist,influenced_by,source``) of the catalogue."""
        return cls.from_edges((r["artist"].strip(), r["influenced_by"].strip()) for r in read_table(path).rows)

    def _bfs(self, source: str, max_hops: int) -> dict[str, list[str]]:
        """Undirected BFS: painter -> node names of one shortest path from ``source`` (≤ max_hops)."""
        parent: dict[str, str | None] = {source: None}
        depth = {source: 0}
        queue = deque([source] if source in self.neighbours else [])
        while queue:
            node = queue.popleft()
            if depth[node] == max_hops:
                continue
            for nxt in sorted(self.neighbours[node]):  # sorted: deterministic choice among equal paths
                if nxt not in parent:
                    parent[nxt], depth[nxt] = node, depth[node] + 1
                    queue.append(nxt)
        paths: dict[str, list[str]] = {}
        for target in depth:
            if target == source:
                continue
            names, node = [], target
            while node is not None:
                names.append(node)
                node = parent[node]
            paths[target] = names[::-1]
        return paths

    def shortest_paths(
        self, source_key: str, target_keys: Iterable[str], max_hops: int = 4
    ) -> dict[str, InfluencePath]:
        """Same contract as ``recommender.graph.shortest_paths`` (keys are painter names here).

        The source itself, unknown and unreachable painters are absent. One BFS per source, cached.
        """
        cache_key = (source_key, max_hops)
        if cache_key not in self._cache:
            self._cache[cache_key] = {
                target: InfluencePath(names=names, steps=[(a, b) in self.edges for a, b in itertools.pairwise(names)])
                for target, names in self._bfs(source_key, max_hops).items()
            }
        found = self._cache[cache_key]
        return {key: found[key] for key in set(target_keys) if key in found}


# ---------------------------------------------------------------------------------------------
# Retrieval
# ---------------------------------------------------------------------------------------------
def l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def cosine_top_k(queries: np.ndarray, catalogue: np.ndarray, k: int, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine search: (indices, similarities), each (n_queries, k), best first."""
    q, c = l2_normalise(queries), l2_normalise(catalogue)
    k = min(k, len(c))
    idx = np.zeros((len(q), k), np.int64)
    sim = np.zeros((len(q), k), np.float32)
    for s in range(0, len(q), chunk):
        block = q[s : s + chunk] @ c.T
        part = np.argpartition(-block, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(block, part, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        idx[s : s + chunk] = np.take_along_axis(part, order, axis=1)
        sim[s : s + chunk] = np.take_along_axis(vals, order, axis=1)
    return idx, sim


@dataclass(frozen=True)
class _Painter:
    """What ranking needs of an Artist: the graph key (here the name), an id and a name."""

    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class _Work:
    id: int
    artist: _Painter | None

    @property
    def artist_id(self) -> int | None:
        return self.artist.id if self.artist else None


@dataclass(frozen=True)
class _Hit:
    """What ``rerank`` and ``influence_scores`` need of a ``search.Neighbour``."""

    artwork: _Work
    similarity: float


@dataclass
class RetrievalResult:
    k: int
    n_queries: int
    n_painter_queries: int
    style_precision: float
    painter_precision: float
    style_precision_reranked: float
    painter_precision_reranked: float
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def evaluate_retrieval(
    catalogue_features: np.ndarray,
    catalogue_styles: Sequence[str],
    catalogue_painters: Sequence[str],
    query_features: np.ndarray,
    query_styles: Sequence[str],
    query_painters: Sequence[str],
    graph: InfluenceGraph,
    *,
    k: int = 10,
    config: Any = None,
) -> RetrievalResult:
    """Precision@k of same style / same painter, plain visual order and influence re-ranked.

    Painters are names, ``""`` when unknown. Needs Django set up (``recommender.ranking``).
    """
    t0 = time.perf_counter()
    config = config or RankingConfig()
    cat_styles = np.asarray(catalogue_styles)
    cat_painters = np.asarray(catalogue_painters)
    q_styles = np.asarray(query_styles)
    q_painters = np.asarray(query_painters)
    # Painter ids start at 1: rerank treats a falsy artist_id as "anonymous".
    names = sorted((set(cat_painters.tolist()) | set(q_painters.tolist())) - {""})
    painters = {name: _Painter(i + 1, name, name) for i, name in enumerate(names)}
    works = [_Work(i, painters.get(p)) for i, p in enumerate(cat_painters.tolist())]

    n_cand = max(config.candidates, k)
    idx, sim = cosine_top_k(query_features, catalogue_features, n_cand)
    plain = idx[:, :k]
    style_hits = cat_styles[plain] == q_styles[:, None]
    known = q_painters != ""
    painter_hits = cat_painters[plain] == q_painters[:, None]

    reranked = np.zeros((len(idx), k), np.int64)
    for qi in range(len(idx)):
        hits = [_Hit(works[j], float(s)) for j, s in zip(idx[qi], sim[qi], strict=True)]
        # The production scoring, with the in-memory graph in place of Neo4j.
        query_painter = painters.get(str(q_painters[qi]))
        scores, _ = influence_scores(query_painter, hits, config, find_paths=graph.shortest_paths)
        chosen = rerank(hits, k=k, config=config, scores=scores, paths={})
        reranked[qi, : len(chosen)] = [m.artwork.id for m in chosen]
    style_rr = cat_styles[reranked] == q_styles[:, None]
    painter_rr = cat_painters[reranked] == q_painters[:, None]

    def mean(x: np.ndarray) -> float:
        return float(x.mean()) if x.size else float("nan")

    return RetrievalResult(
        k=k,
        n_queries=len(idx),
        n_painter_queries=int(known.sum()),
        style_precision=mean(style_hits),
        painter_precision=mean(painter_hits[known]),
        style_precision_reranked=mean(style_rr),
        painter_precision_reranked=mean(painter_rr[known]),
        seconds=time.perf_counter() - t0,
    )
