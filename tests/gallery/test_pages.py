"""Catalogue pages: content, filters, paging, 404s, and the selectors behind them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gallery import selectors
from tests.factories import artist_create, artwork_create, artworks_create, genre_create, influence_create, style_get

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    """Two painters in two styles, one influence between them."""
    monet = artist_create(name="Claude Monet", birth_year=1840, death_year=1926, nationality="French")
    boudin = artist_create(name="Eugène Boudin", birth_year=1824, death_year=1898, nationality="French")
    influence_create(artist=monet, influencer=boudin)
    impressionism, cubism = style_get("Impressionism"), style_get("Cubism")
    landscape = genre_create(name="landscape")
    works = {
        "lilies": artwork_create(title="Water Lilies", artist=monet, style=impressionism, genre=landscape, year=1906),
        "sunrise": artwork_create(title="Impression, Sunrise", artist=monet, style=impressionism, year=1872),
        "beach": artwork_create(title="Beach at Trouville", artist=boudin, style=impressionism, year=1863),
        "odd": artwork_create(title="", artist=boudin, style=cubism),
    }
    return {"monet": monet, "boudin": boudin, "impressionism": impressionism, "cubism": cubism, **works}


def test_home_shows_styles_with_counts_and_calls_to_action(client, catalogue):
    response = client.get(reverse("gallery:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Upload a painting" in html
    assert reverse("signup") in html
    assert reverse("gallery:artwork_list") in html
    styles = {s.name: s.artwork_count for s in response.context["styles"]}
    assert len(styles) == 13
    assert styles["Impressionism"] == 3
    assert styles["Cubism"] == 1
    assert "3 works" in html


def test_browse_lists_every_artwork_with_lazy_images(client, catalogue):
    response = client.get(reverse("gallery:artwork_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["page_obj"].paginator.count == 4
    assert "Water Lilies" in html
    assert "Untitled" in html  # the empty title
    assert 'loading="lazy"' in html


def test_browse_filters_by_style_painter_and_title(client, catalogue):
    url = reverse("gallery:artwork_list")

    def titles(**params) -> set[str]:
        response = client.get(url, params)
        assert response.status_code == 200
        return {a.display_title for a in response.context["page_obj"].object_list}

    assert titles(style="cubism") == {"Untitled"}
    assert titles(artist=catalogue["monet"].slug) == {"Water Lilies", "Impression, Sunrise"}
    assert titles(q="lilies") == {"Water Lilies"}
    assert titles(style="impressionism", artist=catalogue["boudin"].slug) == {"Beach at Trouville"}


@pytest.mark.parametrize(
    "params",
    [{"style": "no-such-style"}, {"artist": "nobody"}, {"page": "abc"}, {"page": "999"}, {"q": "x" * 500}],
)
def test_browse_ignores_bad_filter_values(client, catalogue, params):
    response = client.get(reverse("gallery:artwork_list"), params)
    assert response.status_code == 200
    # The bad value is dropped (a 500-character search is over max_length): everything is listed.
    assert response.context["page_obj"].paginator.count == 4


def test_browse_empty_state(client, catalogue):
    response = client.get(reverse("gallery:artwork_list"), {"q": "no painting has this title"})
    assert response.status_code == 200
    assert "No paintings match these filters" in response.content.decode()


def test_browse_pages_by_24_and_keeps_filters(client):
    style = style_get("Baroque")
    artworks_create(30, title="Baroque work", style=style)
    artworks_create(2, title="Rococo work", style=style_get("Rococo"))
    url = reverse("gallery:artwork_list")

    first = client.get(url, {"style": "baroque"})
    assert len(first.context["page_obj"].object_list) == 24
    html = first.content.decode()
    assert "?style=baroque&amp;page=2" in html  # the next-page link keeps the style

    second = client.get(url, {"style": "baroque", "page": 2})
    assert len(second.context["page_obj"].object_list) == 6
    assert all(a.style == style for a in second.context["page_obj"].object_list)


def test_browse_runs_a_constant_number_of_queries(client, django_assert_max_num_queries):
    artist = artist_create(name="Busy Painter")
    artworks_create(24, artist=artist, genre=genre_create(name="portrait"))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("gallery:artwork_list"))
    assert response.status_code == 200


def test_artwork_detail(client, catalogue):
    lilies = catalogue["lilies"]
    response = client.get(lilies.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Water Lilies" in html
    assert catalogue["monet"].get_absolute_url() in html
    assert "Impressionism" in html and "landscape" in html and "1906" in html
    assert "More by Claude Monet" in html
    more = list(response.context["more_by_artist"])
    assert more == [catalogue["sunrise"]]


def test_artwork_detail_untitled_and_without_painter(client):
    artwork = artwork_create(title="", artist=None)
    response = client.get(artwork.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Untitled" in html and "Unknown painter" in html


def test_unknown_ids_give_the_404_page(client):
    for url in ["/artworks/999999/", "/artists/no-such-painter/", "/no/such/page/"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "This page is not in the catalogue" in response.content.decode()


def test_painter_list_counts_search_and_paging(client, catalogue):
    for i in range(35):
        artist_create(name=f"Zed Painter {i:02d}")
    url = reverse("gallery:artist_list")
    response = client.get(url)
    assert response.status_code == 200
    page = response.context["page_obj"]
    assert page.paginator.count == 37
    assert len(page.object_list) == 30
    counts = {a.name: a.artwork_count for a in page.object_list}
    assert counts["Claude Monet"] == 2

    searched = client.get(url, {"q": "monet"})
    assert [a.name for a in searched.context["page_obj"].object_list] == ["Claude Monet"]

    second = client.get(url, {"q": "zed", "page": 2})
    assert len(second.context["page_obj"].object_list) == 5


def test_painter_detail_shows_facts_works_and_influences(client, catalogue):
    monet, boudin = catalogue["monet"], catalogue["boudin"]
    artist_create(name="Other Painter", movements="Impressionism;Plein air", nationality="French;Dutch")
    response = client.get(monet.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Claude Monet" in html and "1840–1926" in html and "French" in html
    assert "Water Lilies" in html
    assert list(response.context["influences"].influenced_by) == [boudin]
    assert boudin.get_absolute_url() in html

    boudin_page = client.get(boudin.get_absolute_url())
    assert list(boudin_page.context["influences"].influenced) == [monet]
    assert monet.get_absolute_url() in boudin_page.content.decode()


def test_painter_detail_splits_movements(client):
    artist = artist_create(name="Split Painter", movements="Impressionism;Plein air", nationality="French;Dutch")
    response = client.get(artist.get_absolute_url())
    assert response.context["movements"] == ["Impressionism", "Plein air"]
    assert response.context["nationalities"] == ["French", "Dutch"]
    assert "No works of Split Painter" in response.content.decode()


def test_style_famous_painters_orders_by_works_then_influence_links():
    style, other = style_get("Fauvism"), style_get("Symbolism")
    matisse, derain, dufy, hub = (artist_create(name=n) for n in ["Matisse", "Derain", "Dufy", "Hub"])
    artworks_create(3, artist=matisse, style=style)
    artworks_create(2, artist=derain, style=style)
    artworks_create(2, artist=dufy, style=style)
    artworks_create(5, artist=dufy, style=other)  # works in another style do not count
    # Dufy has more influence links than Derain, so wins the tie at 2 works.
    influence_create(artist=dufy, influencer=matisse)
    influence_create(artist=hub, influencer=dufy)

    painters = list(selectors.style_famous_painters(style=style, limit=3))
    assert [p.name for p in painters] == ["Matisse", "Dufy", "Derain"]
    assert [p.style_works for p in painters] == [3, 2, 2]
    assert [p.influence_links for p in painters] == [1, 2, 0]
    assert [p.name for p in selectors.style_famous_painters(style="fauvism", limit=1)] == ["Matisse"]


def test_artist_influences_reads_both_directions():
    a, b, c = (artist_create(name=n) for n in ["A painter", "B painter", "C painter"])
    influence_create(artist=a, influencer=b)
    influence_create(artist=c, influencer=a)
    influences = selectors.artist_influences(a)
    assert list(influences.influenced_by) == [b]
    assert list(influences.influenced) == [c]
