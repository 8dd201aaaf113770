"""The exploration features in Chromium, each checked with axe-core and kept as screenshots.

Real services: the live server, PostgreSQL and Neo4j (test label). Catalogue rows come from the
factories; the graph is mirrored into Neo4j through the app's client.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from gallery.models import Style
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
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header would otherwise sit mid-screenshot
    screenshot(page, "10-painter-path")

    # A tighter bound: no path, said in words.
    page.locator(".path-search form").get_by_label("At most").fill("2")
    page.locator(".path-search form").get_by_role("button", name="Find the path").click()
    expect(page.locator("[data-path-result] h2")).to_have_text("No path within 2 steps")
    check_accessible(page, "painter path, none found")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "11-painter-path-none")

    # Clicking a painter on the path opens their page.
    page.locator(".path-search form").get_by_label("At most").fill("6")
    page.locator(".path-search form").get_by_role("button", name="Find the path").click()
    page.locator(".path-card", has_text="Camille Corot").click()
    expect(page.locator("h1")).to_have_text("Camille Corot")


def _painted(title: str, bands: list[tuple[str, int]]):
    """A catalogue work whose image is horizontal bands of colour, with its palette computed."""
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    image = Image.new("RGB", (120, sum(rows for _, rows in bands)))
    top = 0
    for colour, rows in bands:
        image.paste(colour, (0, top, 120, top + rows))
        top += rows
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    artwork = artwork_create(title=title, artist=artist_create(name=f"Painter of {title}"), year=1900)
    artwork.image.save(f"{title}.png", ContentFile(buffer.getvalue()), save=True)
    return artwork


def test_palette_search_and_artwork_palette(page, screenshot, check_accessible):
    from playwright.sync_api import expect

    from recommender.palette import catalogue_fill_palettes

    _painted("Blue and gold", [("#2a3fa0", 60), ("#e0b02c", 60)])
    _painted("Deep blue", [("#2a3fa0", 110), ("#efe2bd", 10)])
    _painted("Red field", [("#c0262a", 120)])
    catalogue_fill_palettes()

    page.goto(reverse("gallery:home"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Colours").click()
    check_accessible(page, "palette search form")
    page.fill("#c1", "#2a3fa0")
    page.fill("#c2", "#e3b330")  # near, not equal to, the painted gold
    expect(page.locator("#use-2")).to_be_checked()  # choosing a colour ticks its slot
    page.get_by_role("button", name="Find paintings").click()

    results = page.locator("[data-palette-results]")
    expect(results.locator("h2")).to_contain_text("ultramarine and golden yellow")
    expect(results.locator(".card-title").first).to_have_text("Blue and gold")
    expect(results.locator(".palette-card")).to_have_count(2)  # the red painting does not match
    expect(results.locator(".palette-bar").first).to_be_visible()
    check_accessible(page, "palette search results")
    screenshot(page, "12-palette-search")

    results.locator(".card-link").first.click()
    palette = page.locator(".artwork-palette")
    expect(palette.locator(".palette-legend li")).to_have_count(2)
    expect(palette).to_contain_text("ultramarine")
    check_accessible(page, "artwork palette")
    screenshot(page, "13-artwork-palette")
    palette.get_by_role("link", name="Paintings with these colours").click()
    expect(page.locator("[data-palette-results] .card-title").first).to_have_text("Blue and gold")


def test_catalogue_map(page, screenshot, check_accessible, owner):
    """The map loads, colours by style, shows thumbnails when zoomed, places an upload, and a click opens a work."""
    import numpy as np
    from playwright.sync_api import expect

    from recommender import versions
    from recommender.catalogue_map import catalogue_map_build
    from tests.factories import upload_create

    version = versions.ensure_active_recorded()
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((3, 1280))
    styles = list(Style.objects.order_by("name")[:3])
    works = []
    for i in range(45):
        vector = centres[i % 3] + 0.3 * rng.standard_normal(1280)
        work = artwork_create(title=f"Map work {i}", artist=artist_create(name=f"Map painter {i}"), style=styles[i % 3])
        work.embedding, work.embedding_version = (vector / np.linalg.norm(vector)).tolist(), version
        work.save(update_fields=["embedding", "embedding_version"])
        works.append(work)
    catalogue_map_build(version=version)
    upload = upload_create(owner=owner, embedding=list(works[4].embedding), model_version=version)
    upload.original_filename = "my-painting.jpg"
    upload.save(update_fields=["original_filename"])

    page.goto(reverse("gallery:home"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Map").click()
    expect(page.locator("[data-map]")).to_have_attribute("data-ready", "true")
    expect(page.locator("[data-map-legend] .map-legend-item")).to_have_count(3)
    expect(page.locator("[data-map-status]")).to_contain_text("45 paintings")
    check_accessible(page, "catalogue map")
    screenshot(page, "14-catalogue-map")

    # Hiding a style and showing it again.
    legend_item = page.locator("[data-map-legend] .map-legend-item").first
    legend_item.click()
    expect(legend_item).to_have_attribute("aria-pressed", "false")
    legend_item.click()

    # Zoomed in on a work, thumbnails are drawn (images requested); hovering names the work.
    page.evaluate(f"window.artsiteMap.centreOn({works[7].pk}, 60)")
    page.wait_for_function("document.querySelectorAll('img').length >= 0 && window.artsiteMap.stats.draws > 2")
    position = page.evaluate(f"window.artsiteMap.screenPosition({works[7].pk})")
    page.mouse.move(position["x"], position["y"])
    expect(page.locator("[data-map-tooltip]")).to_contain_text("Map work 7")
    screenshot(page, "15-catalogue-map-zoomed")
    page.mouse.click(position["x"], position["y"])
    expect(page).to_have_url(re.compile(reverse("gallery:artwork_detail", args=[works[7].pk]) + "$"))

    # A signed-in person's upload is placed on the map.
    page.goto(reverse("login"))
    page.fill("input[name=username]", "owner")
    page.fill("input[name=password]", "owner-pass-123")
    page.click("form.form button[type=submit]")
    page.goto(reverse("gallery:catalogue_map") + f"?upload={upload.pk}")
    expect(page.locator("[data-map]")).to_have_attribute("data-ready", "true")
    expect(page.locator(".map-upload-note")).to_contain_text("Your upload")
    expect(page.get_by_role("button", name="Your upload")).to_be_visible()
    check_accessible(page, "catalogue map with an upload")
    screenshot(page, "16-catalogue-map-upload")


def test_upload_explained(page, screenshot, check_accessible, demo_catalogue, style_model, worker, owner):
    """Upload a catalogue painting: the results say which work it is, show its palette and a heat-map toggle."""
    from django.conf import settings
    from playwright.sync_api import expect

    from gallery.models import Artwork

    row = next(r for r in demo_catalogue if r["artist"])
    artwork = Artwork.objects.select_related("artist").get(source_id=row["id"])
    page.goto(reverse("login"))
    page.fill("input[name=username]", "owner")
    page.fill("input[name=password]", "owner-pass-123")
    page.click("form.form button[type=submit]")
    page.goto(reverse("gallery:upload_create"))
    page.set_input_files("input[name=image]", str(settings.DEMO_CATALOGUE_DIR / row["file"]))
    page.click("[data-submit]")
    page.wait_for_url(re.compile(r"/uploads/\d+/$"))

    banner = page.locator("[data-duplicate]")
    expect(banner).to_be_visible(timeout=60_000)
    expect(banner).to_contain_text(f"This looks like {artwork.display_title}")
    expect(banner).to_contain_text(artwork.artist.name)
    similar = page.locator("#similar .similar-card .card-link")
    expect(similar).to_have_count(10)
    hrefs = [similar.nth(i).get_attribute("href") for i in range(10)]
    assert artwork.get_absolute_url() not in hrefs  # the work itself is not among the similar ones

    palette = page.locator("[data-upload-palette]")
    expect(palette.locator(".palette-legend li")).to_have_count(len(artwork.palette.colours), timeout=5_000)
    painting, overlay = page.locator("[data-heat-painting]"), page.locator("[data-heat-overlay]")
    expect(painting).to_be_visible()
    expect(overlay).to_be_hidden()
    page.wait_for_load_state("networkidle")
    check_accessible(page, "results with insights")
    screenshot(page, "17-upload-duplicate-palette")

    page.locator("[data-heat-show=overlay]").click()
    expect(overlay).to_be_visible()
    expect(painting).to_be_hidden()
    expect(page.locator("[data-heat-show=overlay]")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("document.querySelector('[data-heat-overlay]').naturalWidth") > 0
    check_accessible(page, "results with the heat map")
    screenshot(page, "18-upload-heatmap")
    page.locator("[data-heat-show=painting]").click()
    expect(painting).to_be_visible()

    banner.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text(artwork.display_title)
