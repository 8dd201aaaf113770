"""The app's Neo4j client against the real server (test label only)."""

from __future__ import annotations

import time

import pytest
from neo4j.exceptions import ConstraintError, CypherSyntaxError, ServiceUnavailable

from recommender import graph


@pytest.fixture
def small_graph(graph_clean):
    # seurat -> pissarro -> corot ; monet -> boudin ; monet -> corot ; lonely painter
    graph.upsert_artists(
        [
            ("seurat", "Georges Seurat"),
            ("pissarro", "Camille Pissarro"),
            ("corot", "Camille Corot"),
            ("monet", "Claude Monet"),
            ("boudin", "Eugene Boudin"),
            ("lonely", "A Lonely Painter"),
        ]
    )
    graph.upsert_influences([("seurat", "pissarro"), ("pissarro", "corot"), ("monet", "boudin"), ("monet", "corot")])
    return graph_clean


def test_merge_is_idempotent(small_graph) -> None:
    graph.upsert_artists([("seurat", "Georges Seurat")])
    graph.upsert_influences([("seurat", "pissarro")])
    assert graph.counts() == (6, 4)


def test_shortest_paths_both_directions_in_one_query(small_graph) -> None:
    paths = graph.shortest_paths("seurat", ["pissarro", "corot", "monet", "boudin", "lonely", "unknown", "seurat"])

    assert paths["pissarro"].describe() == ["Georges Seurat", "influenced by", "Camille Pissarro"]
    assert paths["corot"].length == 2
    # Seurat -> Pissarro -> Corot <- Monet: the last step is against the edge direction.
    assert paths["monet"].describe() == [
        "Georges Seurat",
        "influenced by",
        "Camille Pissarro",
        "influenced by",
        "Camille Corot",
        "influenced",
        "Claude Monet",
    ]
    assert paths["boudin"].length == 4
    assert "lonely" not in paths and "unknown" not in paths and "seurat" not in paths


def test_max_hops_bounds_the_search(small_graph) -> None:
    paths = graph.shortest_paths("seurat", ["monet", "boudin"], max_hops=3)
    assert set(paths) == {"monet"}


def test_delete_influence_and_influences_of(small_graph) -> None:
    assert graph.influences_of("pissarro") == {"influenced_by": ["Camille Corot"], "influenced": ["Georges Seurat"]}
    graph.delete_influence("seurat", "pissarro")
    assert graph.counts() == (6, 3)
    assert "pissarro" not in graph.shortest_paths("seurat", ["pissarro"])


def test_after_a_connection_failure_calls_fail_fast_until_reset(graph_clean, neo4j_down) -> None:
    with pytest.raises(graph.GraphUnavailable):
        graph.counts()
    started = time.monotonic()
    with pytest.raises(graph.GraphUnavailable, match="failed moments ago"):
        graph.counts()
    assert time.monotonic() - started < 0.1


def test_outage_is_graph_unavailable_with_the_driver_error_as_cause(graph_clean, neo4j_down) -> None:
    with pytest.raises(graph.GraphUnavailable) as caught:
        graph.shortest_paths("seurat", ["pissarro"])
    assert isinstance(caught.value.__cause__, ServiceUnavailable)


def test_a_cypher_error_fails_loudly_and_is_not_an_outage(small_graph) -> None:
    """A query bug must not pass for "Neo4j unavailable" (the ranking would silently go visual-only)."""
    with pytest.raises(CypherSyntaxError) as caught:
        graph._run("MATCH (a:TestArtist RETURN a")  # a real malformed query against the real server
    assert not isinstance(caught.value, graph.GraphUnavailable)
    # Not mistaken for an outage: the next call goes to the server at once, without the fast-fail pause.
    assert graph.counts() == (6, 4)


def test_a_constraint_violation_is_not_an_outage(small_graph) -> None:
    label = graph._label()
    with pytest.raises(ConstraintError):
        graph._run(f"CREATE (:{label} {{key: 'seurat', name: 'A second Seurat'}})")
    assert graph.counts() == (6, 4)
