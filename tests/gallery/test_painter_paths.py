"""Paths between painters: the Neo4j query, the page and the API, against the real Neo4j (test label)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from recommender import graph
from recommender.painter_paths import PathInputError, painter_path
from tests.factories import artist_create, artwork_create, influence_create


@pytest.fixture
def painters(db, graph_clean):
    """seurat → pissarro → corot ← monet → boudin, plus a painter with no links (a = influenced by b)."""
    names = {
        "seurat": "Georges Seurat",
        "pissarro": "Camille Pissarro",
        "corot": "Camille Corot",
        "monet": "Claude Monet",
        "boudin": "Eugène Boudin",
        "lonely": "A Lonely Painter",
    }
    artists = {key: artist_create(name=name, slug=key) for key, name in names.items()}
    edges = [("seurat", "pissarro"), ("pissarro", "corot"), ("monet", "corot"), ("monet", "boudin")]
    for a, b in edges:
        influence_create(artist=artists[a], influencer=artists[b])
    graph.upsert_artists([(artist.slug, artist.name) for artist in artists.values()])
    graph.upsert_influences(edges)
    # Two works of Seurat: the earlier dated one represents him; Corot has none.
    artwork_create(title="Late Seurat", artist=artists["seurat"], year=1890)
    artwork_create(title="Bathers at Asnières", artist=artists["seurat"], year=1884)
    for key in ("pissarro", "monet", "boudin"):
        artwork_create(title=f"A work by {key}", artist=artists[key], year=1870)
    return artists


def test_graph_path_follows_edges_in_both_directions(painters):
    keys, path = graph.influence_path_between("seurat", "boudin", 6)
    assert keys == ["seurat", "pissarro", "corot", "monet", "boudin"]
    # seurat -by-> pissarro -by-> corot <-by- monet -by-> boudin
    assert path.steps == [True, True, False, True]
    assert graph.influence_path_between("seurat", "boudin", 3) is None
    assert graph.influence_path_between("seurat", "lonely", 10) is None
    assert graph.influence_path_between("seurat", "nobody", 10) is None
    with pytest.raises(ValueError):
        graph.influence_path_between("seurat", "boudin", 0)


def test_painter_path_has_a_work_of_each_painter(painters):
    path = painter_path(source=painters["seurat"], target=painters["monet"], max_hops=6)
    assert path.found and path.length == 3
    assert [step.artist.slug for step in path.steps] == ["seurat", "pissarro", "corot", "monet"]
    assert [step.relation for step in path.steps] == ["influenced by", "influenced by", "influenced", ""]
    assert path.steps[0].artwork.title == "Bathers at Asnières"
    assert path.steps[2].artwork is None  # Corot has no work in the catalogue
    assert path.steps[-1].next_artist is None and path.steps[0].next_artist == painters["pissarro"]

    none = painter_path(source=painters["seurat"], target=painters["lonely"], max_hops=6)
    assert not none.found and none.length == 0
    with pytest.raises(PathInputError):
        painter_path(source=painters["seurat"], target=painters["seurat"])
    with pytest.raises(PathInputError):
        painter_path(source=painters["seurat"], target=painters["monet"], max_hops=11)


def test_path_page_shows_the_chain_and_the_no_path_case(client, painters):
    url = reverse("gallery:artist_path", args=["seurat"])
    response = client.get(url, {"to": "claude monet", "hops": "6"})  # names match in any case
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-path-length="3"' in html
    assert "3 steps from Georges Seurat to Claude Monet" in html
    assert "Claude Monet" in html and "Bathers at Asnières (1884)" in html
    assert "Camille Pissarro was influenced by Camille Corot" in html
    assert "Camille Corot influenced Claude Monet" in html  # monet → corot: the step runs against the edge
    assert "Camille Corot" in html and "No work in the catalogue" in html

    response = client.get(url, {"to": "boudin", "hops": "3"})
    assert response.status_code == 200
    assert "No path within 3 steps" in response.content.decode()

    response = client.get(url, {"to": "Camille"})
    assert response.status_code == 404
    html = response.content.decode()
    assert "No painter called “Camille”" in html
    assert "Camille Corot" in html and "Camille Pissarro" in html  # suggestions

    assert client.get(url, {"to": "seurat"}).status_code == 400
    assert client.get(url, {"to": "monet", "hops": "99"}).status_code == 400
    assert client.get(url, {"to": "monet", "hops": "x"}).status_code == 400
    assert client.get(reverse("gallery:artist_path", args=["nobody"])).status_code == 404


def test_painter_page_offers_the_search(client, painters):
    html = client.get(reverse("gallery:artist_detail", args=["seurat"])).content.decode()
    assert reverse("gallery:artist_path", args=["seurat"]) in html
    assert "How is Georges Seurat connected to" in html


def test_path_api(client, painters):
    url = reverse("explore-api:artist_path", args=[painters["seurat"].pk])
    body = client.get(url, {"to": painters["boudin"].pk}).json()
    assert body["found"] is True and body["length"] == 4 and body["max_hops"] == 6
    assert [step["artist"]["slug"] for step in body["steps"]] == ["seurat", "pissarro", "corot", "monet", "boudin"]
    assert [step["relation_to_next"] for step in body["steps"]] == [
        "influenced by",
        "influenced by",
        "influenced",
        "influenced by",
        "",
    ]
    assert body["steps"][0]["artwork"]["title"] == "Bathers at Asnières"
    assert body["steps"][0]["artwork"]["image"].startswith("http://testserver/")
    assert body["steps"][2]["artwork"] is None

    body = client.get(url, {"to": painters["boudin"].pk, "max_hops": 2}).json()
    assert body == {**body, "found": False, "length": 0, "steps": []}

    assert client.get(url, {"to": painters["seurat"].pk}).status_code == 400
    assert "max_hops" in client.get(url, {"to": painters["monet"].pk, "max_hops": 0}).json()
    assert "to" in client.get(url).json()
    assert client.get(url, {"to": 999_999}).status_code == 404
    missing = reverse("explore-api:artist_path", args=[999_999])
    assert client.get(missing, {"to": painters["seurat"].pk}).json()["detail"] == "No painter with this id."


def test_path_when_the_graph_is_down(client, painters, neo4j_down):
    url = reverse("explore-api:artist_path", args=[painters["seurat"].pk])
    response = client.get(url, {"to": painters["monet"].pk})
    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]
    page = client.get(reverse("gallery:artist_path", args=["seurat"]), {"to": "monet"})
    assert page.status_code == 503
    assert "influence graph is unavailable" in page.content.decode()


def test_path_is_in_the_openapi_schema(client, db):
    schema = client.get(reverse("api:schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/artists/{id}/path/"]["get"]
    assert {param["name"] for param in operation["parameters"]} >= {"id", "to", "max_hops"}
