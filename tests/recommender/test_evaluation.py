"""Offline retrieval evaluation: its in-memory influence graph answers like Neo4j, and precision is exact."""

from __future__ import annotations

import numpy as np
import pytest

from recommender import graph
from recommender.evaluation import InfluenceGraph, evaluate_retrieval
from recommender.ranking import RankingConfig

EDGES = [("seurat", "pissarro"), ("pissarro", "corot"), ("monet", "boudin"), ("monet", "corot"), ("x", "y")]


def test_in_memory_paths_match_neo4j(graph_clean) -> None:
    names = sorted({n for edge in EDGES for n in edge})
    graph.upsert_artists([(n, n) for n in names])
    graph.upsert_influences(EDGES)
    offline = InfluenceGraph.from_edges(EDGES)

    for source in names:
        for hops in (2, 4):
            online = graph.shortest_paths(source, [*names, "unknown"], max_hops=hops)
            mine = offline.shortest_paths(source, [*names, "unknown"], max_hops=hops)
            assert set(mine) == set(online)
            # Equal-length alternatives may differ in the middle; length and ends may not.
            for key, path in mine.items():
                assert path.length == online[key].length
                assert path.describe()[0] == source and path.describe()[-1] == key


def test_precision_with_and_without_reranking() -> None:
    """Query by painter A (style S). Visually: C (T), anonymous (T), B (S, A's influence), D (T)."""
    catalogue = np.array([[0.9, 0.1, 0], [0.8, 0.2, 0], [0.7, 0.3, 0], [0, 1, 0]], np.float32)
    result = evaluate_retrieval(
        catalogue,
        ["T", "T", "S", "T"],
        ["C", "", "B", "D"],
        np.array([[1, 0, 0]], np.float32),
        ["S"],
        ["A"],
        InfluenceGraph.from_edges([("A", "B"), ("C", "X")]),
        k=2,
        config=RankingConfig(candidates=4),
    )
    # Plain order C, anonymous: no same-style work in the top 2.
    assert result.style_precision == 0.0
    # B: .919 + .1 (one hop) = 1.019 first; anonymous .970 stays; C: .994 - .025 = .969 drops out.
    assert result.style_precision_reranked == pytest.approx(0.5)
    assert result.painter_precision == result.painter_precision_reranked == 0.0
    assert result.n_queries == 1 and result.n_painter_queries == 1
