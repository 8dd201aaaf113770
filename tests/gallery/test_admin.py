"""The curators' admin: every page loads, and influence edits reach Neo4j through the services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from gallery.models import Artist, Influence
from tests.factories import artist_create, artwork_create, influence_create, upload_create

pytestmark = pytest.mark.django_db


def _admin_urls(model) -> tuple[str, str]:
    info = (model._meta.app_label, model._meta.model_name)
    return reverse("admin:{}_{}_changelist".format(*info)), reverse("admin:{}_{}_add".format(*info))


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_changelist_and_add_page_loads(admin_client, owner, model):
    # A few rows so that list_display callables (thumbnails, counts) actually run.
    monet, boudin = artist_create(name="Claude Monet"), artist_create(name="Eugène Boudin")
    influence_create(artist=monet, influencer=boudin)
    artwork_create(title="Water Lilies", artist=monet)
    upload_create(owner=owner)
    changelist, add = _admin_urls(model)
    assert admin_client.get(changelist).status_code == 200
    assert admin_client.get(add).status_code in {200, 403}  # 403 where adding is not allowed at all


def test_gallery_models_are_all_registered():
    labels = {m._meta.label for m in admin.site._registry}
    for name in ["Style", "Genre", "Artist", "Influence", "Artwork", "Upload", "Prediction", "Match"]:
        assert f"gallery.{name}" in labels


def test_non_staff_cannot_open_the_admin(client, owner):
    client.force_login(owner)
    response = client.get(reverse("admin:gallery_artwork_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response.url


def test_artwork_pages_show_thumbnail_and_embedding_status_not_the_vector(admin_client):
    artwork = artwork_create(title="Water Lilies", embedding=[0.1] * 1280, embedding_version="effnet-v1")
    changelist = admin_client.get(reverse("admin:gallery_artwork_changelist")).content.decode()
    assert f'<img src="{artwork.image.url}"' in changelist
    change = admin_client.get(reverse("admin:gallery_artwork_change", args=[artwork.pk])).content.decode()
    assert "embedded with effnet-v1" in change
    assert 'name="embedding"' not in change


def test_upload_pages_show_thumbnail_and_hide_the_vector(admin_client, owner):
    upload = upload_create(owner=owner)
    changelist = admin_client.get(reverse("admin:gallery_upload_changelist")).content.decode()
    assert f'<img src="{upload.image.url}"' in changelist
    change = admin_client.get(reverse("admin:gallery_upload_change", args=[upload.pk])).content.decode()
    assert "not embedded yet" in change
    assert 'name="embedding"' not in change


def test_artist_slug_is_read_only_after_creation(admin_client):
    add = admin_client.get(reverse("admin:gallery_artist_add")).content.decode()
    assert 'name="slug"' in add
    artist = artist_create(name="Claude Monet")
    change = admin_client.get(reverse("admin:gallery_artist_change", args=[artist.pk])).content.decode()
    assert 'name="slug"' not in change


def _inline_management(prefix: str, total: int = 0, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_influence_added_and_deleted_in_the_admin_updates_neo4j(
    admin_client, graph_clean, django_capture_on_commit_callbacks
):
    graph = graph_clean
    monet, boudin = artist_create(name="Claude Monet"), artist_create(name="Eugène Boudin")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:gallery_influence_add"),
            {"artist": monet.pk, "influencer": boudin.pk, "source": "test"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    influence = Influence.objects.get(artist=monet, influencer=boudin)
    assert graph.influences_of(monet.slug)["influenced_by"] == ["Eugène Boudin"]
    assert graph.influences_of(boudin.slug)["influenced"] == ["Claude Monet"]
    assert boudin.slug in graph.shortest_paths(monet.slug, [boudin.slug])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:gallery_influence_delete", args=[influence.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Influence.objects.exists()
    assert graph.influences_of(monet.slug)["influenced_by"] == []
    assert graph.shortest_paths(monet.slug, [boudin.slug]) == {}


def test_influence_bulk_delete_action_updates_neo4j(admin_client, graph_clean, django_capture_on_commit_callbacks):
    graph = graph_clean
    a, b, c = (artist_create(name=n) for n in ["A painter", "B painter", "C painter"])
    with django_capture_on_commit_callbacks(execute=True):
        for artist, influencer in [(a, b), (a, c)]:
            admin_client.post(
                reverse("admin:gallery_influence_add"), {"artist": artist.pk, "influencer": influencer.pk}
            )
    assert graph.counts() == (3, 2)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:gallery_influence_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": list(Influence.objects.values_list("pk", flat=True)),
                "post": "yes",
            },
        )
    assert response.status_code == 302
    assert not Influence.objects.exists()
    assert graph.counts() == (3, 0)


def test_influence_inline_on_artist_updates_neo4j(admin_client, graph_clean, django_capture_on_commit_callbacks):
    graph = graph_clean
    monet, boudin = artist_create(name="Claude Monet"), artist_create(name="Eugène Boudin")
    url = reverse("admin:gallery_artist_change", args=[monet.pk])
    base = {"name": monet.name, "nationality": "", "movements": "", "birth_year": "", "death_year": ""}

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url,
            {
                **base,
                **_inline_management("influences_received", total=1),
                "influences_received-0-artist": monet.pk,
                "influences_received-0-influencer": boudin.pk,
                "influences_received-0-source": "",
                **_inline_management("influences_given"),
            },
        )
    assert response.status_code == 302, response.context["errors"] if response.context else response
    influence = Influence.objects.get(artist=monet, influencer=boudin)
    assert graph.influences_of(monet.slug)["influenced_by"] == ["Eugène Boudin"]

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url,
            {
                **base,
                **_inline_management("influences_received", total=1, initial=1),
                "influences_received-0-id": influence.pk,
                "influences_received-0-artist": monet.pk,
                "influences_received-0-influencer": boudin.pk,
                "influences_received-0-source": "",
                "influences_received-0-DELETE": "on",
                **_inline_management("influences_given"),
            },
        )
    assert response.status_code == 302
    assert not Influence.objects.exists()
    assert graph.influences_of(monet.slug)["influenced_by"] == []


def test_artist_added_and_deleted_in_the_admin_updates_neo4j(
    admin_client, graph_clean, django_capture_on_commit_callbacks
):
    graph = graph_clean
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:gallery_artist_add"),
            {
                "name": "Berthe Morisot",
                "slug": "berthe-morisot",
                "nationality": "French",
                "movements": "",
                "birth_year": "1841",
                "death_year": "1895",
                **_inline_management("influences_received"),
                **_inline_management("influences_given"),
            },
        )
    assert response.status_code == 302
    artist = Artist.objects.get(slug="berthe-morisot")
    assert graph.counts() == (1, 0)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:gallery_artist_delete", args=[artist.pk]), {"post": "yes"})
    assert not Artist.objects.exists()
    assert graph.counts() == (0, 0)
