"""Colour palettes: Lab arithmetic, the k-means palette, storing catalogue palettes, palette search (page + API)."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from recommender.colour import colour_name, delta_e, hex_to_lab, lab_to_rgb, rgb_to_hex
from recommender.models import ArtworkColour, ArtworkPalette
from recommender.palette import catalogue_fill_palettes, palette_of_file, palette_of_image
from recommender.palette_search import artworks_by_palette, parse_colours
from tests.factories import artwork_create

BLUE, YELLOW, RED = "#2a3fa0", "#e0b02c", "#c0262a"  # ultramarine, golden yellow, red in the names table


def _bands(*parts: tuple[str, int], size: int = 100) -> Image.Image:
    """An image of horizontal bands: (hex colour, rows) pairs."""
    image = Image.new("RGB", (size, sum(rows for _, rows in parts)))
    top = 0
    for colour, rows in parts:
        image.paste(colour, (0, top, size, top + rows))
        top += rows
    return image


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _artwork_with(image: Image.Image, title: str):
    artwork = artwork_create(title=title)
    artwork.image.save(f"{title}.png", ContentFile(_png(image)), save=True)
    return artwork


def test_lab_conversions_match_reference_values():
    white, black = hex_to_lab("#ffffff"), hex_to_lab("#000000")
    assert white.l == pytest.approx(100, abs=0.01) and abs(white.a) < 0.01 and abs(white.b) < 0.01
    assert black.l == pytest.approx(0, abs=0.01)
    red = hex_to_lab("#ff0000")  # reference: L 53.24, a 80.09, b 67.20
    assert (red.l, red.a, red.b) == pytest.approx((53.24, 80.09, 67.20), abs=0.05)
    assert rgb_to_hex(lab_to_rgb(hex_to_lab("#c48f2c"))) == "#c48f2c"
    assert delta_e(hex_to_lab("#808080"), hex_to_lab("#818181")) < 1
    assert colour_name(hex_to_lab(BLUE)) == "ultramarine"
    assert colour_name(hex_to_lab("#141410")) == "black"
    with pytest.raises(ValueError, match="not a colour"):
        hex_to_lab("blue")


def test_palette_finds_the_colours_and_their_shares():
    colours = palette_of_image(_bands((BLUE, 60), (YELLOW, 30), (RED, 10)))
    assert [c.name for c in colours] == ["ultramarine", "golden yellow", "red"]
    assert [c.share for c in colours] == pytest.approx([0.6, 0.3, 0.1], abs=0.02)
    assert delta_e(hex_to_lab(colours[0].hex), hex_to_lab(BLUE)) < 3
    assert sum(c.share for c in colours) == pytest.approx(1, abs=0.001)


def test_palette_of_a_real_painting_is_deterministic():
    path = next((settings.DEMO_CATALOGUE_DIR / "images").glob("*.jpg"))
    first, second = palette_of_file(str(path)), palette_of_file(str(path))
    assert first == second
    assert 4 <= len(first) <= 6
    assert [c.share for c in first] == sorted((c.share for c in first), reverse=True)
    assert all(c.hex.startswith("#") and len(c.hex) == 7 and c.name for c in first)


@pytest.mark.django_db
def test_fill_palettes_is_resumable_and_records_unreadable_images(capsys):
    blue = _artwork_with(_bands((BLUE, 80), (YELLOW, 20)), "blue")
    broken = artwork_create(title="broken")
    broken.image.save("broken.jpg", ContentFile(b"not an image at all"), save=True)

    call_command("fill_palettes", verbosity=0)
    palette = ArtworkPalette.objects.get(artwork=blue)
    assert [c["name"] for c in palette.colours] == ["ultramarine", "golden yellow"]
    assert ArtworkColour.objects.filter(palette=palette).count() == 2
    assert ArtworkPalette.objects.get(artwork=broken).error.startswith("UnidentifiedImageError")

    report = catalogue_fill_palettes()  # nothing left: a second run computes nothing
    assert report.computed == 0 and report.failed == []
    report = catalogue_fill_palettes(ids=[blue.pk])  # an explicit recompute replaces, never duplicates
    assert report.computed == 1
    assert ArtworkColour.objects.filter(palette__artwork=blue).count() == 2


@pytest.fixture
def coloured_catalogue(db):
    works = {
        "blue": _artwork_with(_bands((BLUE, 90), ("#efe2bd", 10)), "blue"),
        "blue-yellow": _artwork_with(_bands((BLUE, 50), (YELLOW, 50)), "blue-yellow"),
        "yellow": _artwork_with(_bands((YELLOW, 95), (BLUE, 5)), "yellow"),
        "red": _artwork_with(_bands((RED, 100)), "red"),
    }
    catalogue_fill_palettes()
    return works


def test_palette_search_ranks_by_fit_and_share(coloured_catalogue):
    blue = [work.title for work, _ in artworks_by_palette(colours=parse_colours([BLUE]))]
    assert blue[:2] == ["blue", "blue-yellow"] and "red" not in blue
    both = artworks_by_palette(colours=parse_colours([BLUE, "#e5b530"]))  # a yellow close to, not equal to, YELLOW
    assert both[0][0].title == "blue-yellow"
    assert both[0][1] > both[1][1] > 0
    assert all(0 < score <= 1 for _, score in both)
    with pytest.raises(ValueError, match="at most 3"):
        parse_colours([BLUE, RED, YELLOW, "#000000"])
    with pytest.raises(ValueError, match="at least one"):
        parse_colours(["", " "])


def test_palette_search_page(client, coloured_catalogue):
    url = reverse("gallery:palette_search")
    html = client.get(url).content.decode()
    assert 'type="color"' in html and html.count('type="color"') == 3
    response = client.get(url, {"use": ["1", "2"], "c1": BLUE, "c2": YELLOW, "c3": RED})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Paintings with ultramarine and golden yellow" in html
    assert html.index("blue-yellow") < html.index(">yellow<")
    assert client.get(url, {"c": ["#12345"]}).status_code == 400
    assert "Pick at most 3 colours" in client.get(url, {"c": [BLUE] * 4}).content.decode()


def test_artwork_page_shows_its_palette(client, coloured_catalogue):
    work = coloured_catalogue["blue-yellow"]
    html = client.get(reverse("gallery:artwork_detail", args=[work.pk])).content.decode()
    assert "Colour palette" in html and "ultramarine" in html and "golden yellow" in html
    assert reverse("gallery:palette_search") + "?c=%232a3fa0" in html.replace("2A3FA0", "2a3fa0")


def test_palette_api(client, coloured_catalogue):
    work = coloured_catalogue["blue-yellow"]
    body = client.get(reverse("explore-api:artwork_palette", args=[work.pk])).json()
    assert [c["name"] for c in body["colours"]] == ["ultramarine", "golden yellow"] or [
        c["name"] for c in body["colours"]
    ] == ["golden yellow", "ultramarine"]
    assert client.get(reverse("explore-api:artwork_palette", args=[999_999])).status_code == 404
    bare = artwork_create(title="not analysed")
    assert client.get(reverse("explore-api:artwork_palette", args=[bare.pk])).status_code == 409

    url = reverse("explore-api:palette_search")
    body = client.get(url, {"colours": "2a3fa0,#e0b02c", "limit": 2}).json()
    assert body["colours"] == [{"hex": BLUE, "name": "ultramarine"}, {"hex": YELLOW, "name": "golden yellow"}]
    assert len(body["results"]) == 2 and body["results"][0]["artwork"]["title"] == "blue-yellow"
    assert body["results"][0]["palette"][0]["hex"].startswith("#")
    assert "colours" in client.get(url, {"colours": "nope"}).json()
    assert "colours" in client.get(url).json()
    assert client.get(url, {"colours": BLUE, "limit": 0}).status_code == 400
    schema = client.get(reverse("api:schema"), {"format": "json"}).json()
    assert "/api/palette-search/" in schema["paths"] and "/api/artworks/{id}/palette/" in schema["paths"]


def test_embedding_the_catalogue_also_stores_palettes(demo_catalogue):
    from gallery.models import Artwork

    assert ArtworkPalette.objects.count() == Artwork.objects.count() == len(demo_catalogue)
    assert not ArtworkPalette.objects.exclude(error="").exists()
    assert all(4 <= len(p.colours) <= 6 for p in ArtworkPalette.objects.all())


@pytest.mark.django_db
def test_fill_also_stores_a_perceptual_hash():
    import numpy as np

    from recommender.fingerprint import hamming
    from recommender.models import ArtworkFingerprint

    def blocks(seed: int) -> Image.Image:  # coarse random structure, like two different compositions
        cells = np.random.default_rng(seed).integers(0, 256, (8, 8, 3), dtype=np.uint8)
        return Image.fromarray(cells).resize((96, 96), Image.Resampling.NEAREST)

    a = _artwork_with(blocks(1), "a")
    b = _artwork_with(blocks(2), "b")
    catalogue_fill_palettes()
    ha, hb = (ArtworkFingerprint.objects.get(artwork=w).phash for w in (a, b))
    assert len(ha) == 16 and hamming(ha, ha) == 0 and hamming(ha, hb) > 10
    # A palette stored before hashes existed is completed by the next run.
    ArtworkFingerprint.objects.filter(artwork=a).delete()
    assert catalogue_fill_palettes().computed == 1
    assert ArtworkFingerprint.objects.get(artwork=a).phash == ha


def test_grid_cells_never_miss_a_colour_within_the_radius():
    import random

    from recommender.colour import Lab, cells_within, lab_cell

    rng = random.Random(5)
    for _ in range(200):
        centre = Lab(rng.uniform(0, 100), rng.uniform(-90, 90), rng.uniform(-100, 100))
        near = set(cells_within(centre, 30.0))
        for _ in range(50):
            other = Lab(rng.uniform(0, 100), rng.uniform(-128, 127), rng.uniform(-128, 127))
            if delta_e(centre, other) < 30.0:
                assert lab_cell(other) in near
        assert len(near) < 26 * 26 * 11 / 4  # and it prunes: a small part of the grid
