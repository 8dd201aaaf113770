"""Influence-aware re-ranking on a small real graph in Neo4j, with a hand-checked expected order."""

from __future__ import annotations

import numpy as np
import pytest

from gallery.models import Artist, Artwork, Influence, Style
from recommender.influence_graph import graph_sync
from recommender.ranking import RankingConfig, similar_works

pytestmark = pytest.mark.django_db

CONFIG = RankingConfig(weight=0.1, same_painter=0.5, unconnected_penalty=0.25, repeat_penalty=0.03, max_hops=4)


def _at_similarity(q: np.ndarray, s: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector whose cosine similarity with unit vector q is exactly s."""
    u = rng.normal(size=q.shape)
    u -= u.dot(q) * q
    u /= np.linalg.norm(u)
    return s * q + np.sqrt(1 - s * s) * u


@pytest.fixture
def scene(graph_clean):
    names = {
        "seurat": "Georges Seurat",
        "pissarro": "Camille Pissarro",
        "corot": "Camille Corot",
        "lonely": "A Lonely Painter",
    }
    painters = {slug: Artist.objects.create(slug=slug, name=name) for slug, name in names.items()}
    Influence.objects.create(artist=painters["seurat"], influencer=painters["pissarro"])
    Influence.objects.create(artist=painters["pissarro"], influencer=painters["corot"])
    graph_sync()

    rng = np.random.default_rng(3)
    q = rng.normal(size=1280)
    q /= np.linalg.norm(q)
    style = Style.objects.get(name="Pointillism")
    # (source id, painter, visual similarity)
    works = [
        ("C", "lonely", 0.85),
        ("D", None, 0.84),
        ("E", "seurat", 0.83),
        ("F", "seurat", 0.815),
        ("A", "pissarro", 0.80),
        ("G", "corot", 0.78),
    ]
    Artwork.objects.bulk_create(
        Artwork(
            source_id=sid,
            title=sid,
            style=style,
            image=f"{sid}.jpg",
            artist=painters[p] if p else None,
            embedding=_at_similarity(q, s, rng),
        )
        for sid, p, s in works
    )
    return q, painters


def test_hand_checked_order_with_paths(scene) -> None:
    q, painters = scene
    ranking = similar_works(q, query_artist=painters["seurat"], k=6, config=CONFIG)

    # A: .80 + .1*1 = .90; E: .83 + .05 = .88; D: .84 (anonymous, neutral);
    # F: .815 + .05 - .03 (second Seurat) = .835; G: .78 + .1/2 = .83; C: .85 - .025 = .825.
    assert [m.artwork.source_id for m in ranking.matches] == ["A", "E", "D", "F", "G", "C"]
    by_id = {m.artwork.source_id: m for m in ranking.matches}
    assert by_id["A"].final_score == pytest.approx(0.90, abs=1e-4)
    assert by_id["A"].visual_score == pytest.approx(0.80, abs=1e-4)
    assert by_id["A"].influence_path == ["Georges Seurat", "influenced by", "Camille Pissarro"]
    assert by_id["G"].influence_score == pytest.approx(0.5)
    assert by_id["G"].influence_path[-1] == "Camille Corot"
    assert by_id["C"].influence_score == pytest.approx(-0.25)
    assert by_id["F"].final_score == pytest.approx(0.835, abs=1e-4)
    assert not ranking.influence_skipped
    assert [m.rank for m in ranking.matches] == [1, 2, 3, 4, 5, 6]


def test_without_influence_is_visual_order(scene) -> None:
    q, painters = scene
    ranking = similar_works(q, query_artist=painters["seurat"], k=6, config=CONFIG, use_influence=False)
    assert [m.artwork.source_id for m in ranking.matches] == ["C", "D", "E", "F", "A", "G"]


def test_painter_inferred_from_neighbours(scene) -> None:
    q, _ = scene
    config = RankingConfig(infer_neighbours=4, infer_min_share=0.4)
    # Top 4 visual: C (lonely), D (anonymous), E, F (Seurat): Seurat holds ~49 % of the weight.
    ranking = similar_works(q, k=3, config=config)  # no painter named
    assert ranking.query_artist.slug == "seurat"


def test_neo4j_down_falls_back_to_visual(scene, neo4j_down) -> None:
    q, painters = scene
    ranking = similar_works(q, query_artist=painters["seurat"], k=6, config=CONFIG)
    assert ranking.influence_skipped
    assert [m.artwork.source_id for m in ranking.matches] == ["C", "D", "E", "F", "A", "G"]
    assert all(m.influence_path == [] for m in ranking.matches)
