"""The exploration features in Chromium, each checked with axe-core and kept as screenshots.

Real services: the live server, PostgreSQL and Neo4j (test label). Catalogue rows come from the
factories; the graph is mirrored into Neo4j through the app's client.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from recommender import graph
from tests.factories import artist_create, artwork_create, influence_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def influence_chain(graph_clean):
    """Seurat → Pissarro → Corot ← Monet (a → b: a was influenced by b), each with a work."""
    keys = {
        "seurat": "Georges Seurat",
        "pissarro": "Camille Pissarro",
        "corot": "Camille Corot",
        "monet": "Claude Monet",
    }
    artists = {key: artist_create(name=name, slug=key) for key, name in keys.items()}
    edges = [("seurat", "pissarro"), ("pissarro", "corot"), ("monet", "corot")]
    for a, b in edges:
        influence_create(artist=artists[a], influencer=artists[b])
    graph.upsert_artists([(artist.slug, artist.name) for artist in artists.values()])
    graph.upsert_influences(edges)
    for artist in artists.values():
        artwork_create(title=f"Study by {artist.name}", artist=artist, year=1880)
    return artists


def test_path_between_two_painters(page, screenshot, check_accessible, influence_chain):
    from playwright.sync_api import expect

    page.goto(reverse("gallery:artist_detail", args=["seurat"]))
    form = page.locator(".path-search-aside form")
    expect(form).to_contain_text("How is Georges Seurat connected to")
    form.get_by_label("Another painter").fill("Claude Monet")
    form.get_by_role("button", name="Find the path").click()

    chain = page.locator("[data-path-result] .path-chain")
    expect(chain).to_have_attribute("data-path-length", "3")
    expect(chain.locator(".path-painter")).to_have_text(
        ["Georges Seurat", "Camille Pissarro", "Camille Corot", "Claude Monet"]
    )
    expect(chain.locator(".path-media img")).to_have_count(4)
    expect(chain.locator(".path-relation").nth(2)).to_contain_text("Camille Corot influenced Claude Monet")
    check_accessible(page, "painter path")
    screenshot(page, "10-painter-path")

    # A tighter bound: no path, said in words.
    page.locator(".path-search form").get_by_label("At most").fill("2")
    page.locator(".path-search form").get_by_role("button", name="Find the path").click()
    expect(page.locator("[data-path-result] h2")).to_have_text("No path within 2 steps")
    check_accessible(page, "painter path, none found")
    screenshot(page, "11-painter-path-none")

    # Clicking a painter on the path opens their page.
    page.locator(".path-search form").get_by_label("At most").fill("6")
    page.locator(".path-search form").get_by_role("button", name="Find the path").click()
    page.locator(".path-card", has_text="Camille Corot").click()
    expect(page.locator("h1")).to_have_text("Camille Corot")
