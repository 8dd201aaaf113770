"""The catalogue map: the t-SNE layout, storing it per model version, the page, the API, placing an upload."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from gallery.models import Style
from recommender import versions
from recommender.catalogue_map import TOTAL_ITERATIONS, NotEnoughPoints, catalogue_map_build, compute_layout
from recommender.models import MapLayout, MapPoint
from tests.factories import artist_create, artwork_create, upload_create

DIM = 1280


def clustered(n_clusters: int, per_cluster: int, *, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors in well-separated clusters, and each vector's cluster label."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, DIM))
    labels = np.repeat(np.arange(n_clusters), per_cluster)
    vectors = centres[labels] + 0.3 * rng.standard_normal((len(labels), DIM))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), labels


def test_layout_keeps_clusters_together_and_is_deterministic():
    vectors, labels = clustered(4, 30)
    coords = compute_layout(vectors)
    assert coords.shape == (120, 2)
    assert coords.min() >= 0 and coords.max() <= 1 + 1e-9
    # Every point's nearest neighbour on the map is from its own cluster.
    d = ((coords[:, None, :] - coords[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert (labels[d.argmin(axis=1)] == labels).mean() == 1.0
    np.testing.assert_allclose(compute_layout(vectors), coords)
    # Progress is reported, and a progress function that returns True (as tqdm's update does) does not
    # stop the optimisation early: the layout is the same.
    done = []
    with_progress = compute_layout(vectors, progress=lambda n: done.append(n) or True)
    assert sum(done) == TOTAL_ITERATIONS
    np.testing.assert_allclose(with_progress, coords)
    with pytest.raises(NotEnoughPoints):
        compute_layout(vectors[:3])


@pytest.fixture
def embedded_catalogue(db):
    """40 works in 4 visual clusters (one style each) embedded with the active model version."""
    version = versions.ensure_active_recorded()
    vectors, labels = clustered(4, 10)
    styles = list(Style.objects.order_by("name")[:4])
    painter = artist_create(name="Map Painter")
    works = []
    for i, (vector, label) in enumerate(zip(vectors, labels, strict=True)):
        work = artwork_create(title=f"Work {i}", artist=painter, style=styles[label], year=1800 + i)
        work.embedding, work.embedding_version = vector.tolist(), version
        work.save(update_fields=["embedding", "embedding_version"])
        works.append(work)
    return {"version": version, "works": works, "labels": labels, "vectors": vectors}


def test_build_stores_one_layout_per_version(embedded_catalogue):
    version = embedded_catalogue["version"]
    call_command("build_catalogue_map", verbosity=0)
    layout = MapLayout.objects.get(model_version=version)
    assert layout.point_count == 40 and layout.method.startswith("openTSNE")
    assert MapPoint.objects.filter(layout=layout).count() == 40
    first = list(MapPoint.objects.filter(layout=layout).order_by("artwork_id").values_list("x", "y"))
    again = catalogue_map_build(version=version)  # a rebuild replaces that version's map, identically
    assert MapLayout.objects.filter(model_version=version).count() == 1
    second = list(MapPoint.objects.filter(layout=again).order_by("artwork_id").values_list("x", "y"))
    np.testing.assert_allclose(np.array(second), np.array(first), atol=1e-9)
    # Works of a model version that is not active never reach the active map.
    other = artwork_create(title="other model")
    other.embedding, other.embedding_version = embedded_catalogue["vectors"][0].tolist(), "another-version"
    other.save(update_fields=["embedding", "embedding_version"])
    assert catalogue_map_build(version=version).point_count == 40


def test_map_api_payload_and_etag(client, embedded_catalogue):
    url = reverse("explore-api:catalogue_map")
    assert client.get(url).status_code == 404
    catalogue_map_build(version=embedded_catalogue["version"])
    response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    points = body["points"]
    assert len(points["id"]) == len(points["x"]) == len(points["image"]) == 40
    assert body["painters"] == ["Map Painter"] and set(points["painter"]) == {0}
    first = points["id"].index(embedded_catalogue["works"][0].pk)
    assert points["title"][first] == "Work 0" and points["year"][first] == 1800
    assert body["styles"][points["style"][first]]["id"] == embedded_catalogue["works"][0].style_id
    assert body["artwork_url"].replace("{id}", "5") == reverse("gallery:artwork_detail", args=[5])
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    schema = client.get(reverse("api:schema"), {"format": "json"}).json()
    assert "/api/map/" in schema["paths"] and "/api/uploads/{id}/map-position/" in schema["paths"]


def test_an_upload_is_placed_among_its_nearest_works(client, owner, other_user, embedded_catalogue):
    layout = catalogue_map_build(version=embedded_catalogue["version"])
    target = embedded_catalogue["works"][12]
    noisy = embedded_catalogue["vectors"][12] + 0.01
    upload = upload_create(owner=owner, embedding=noisy.tolist(), model_version=embedded_catalogue["version"])
    client.force_login(owner)
    body = client.get(reverse("explore-api:upload_map_position", args=[upload.pk])).json()
    point = MapPoint.objects.get(layout=layout, artwork=target)
    assert body["neighbours"][0] == target.pk
    assert abs(body["x"] - point.x) < 0.05 and abs(body["y"] - point.y) < 0.05
    cluster = {
        w.pk for w, label in zip(embedded_catalogue["works"], embedded_catalogue["labels"], strict=True) if label == 1
    }
    assert set(body["neighbours"]) <= cluster  # never averaged with another cluster

    page = client.get(reverse("gallery:catalogue_map"), {"upload": upload.pk}).content.decode()
    assert f'data-upload-x="{body["x"]}"' in page

    pending = upload_create(owner=owner)
    assert client.get(reverse("explore-api:upload_map_position", args=[pending.pk])).status_code == 409
    client.force_login(other_user)
    assert client.get(reverse("explore-api:upload_map_position", args=[upload.pk])).status_code == 404
    page = client.get(reverse("gallery:catalogue_map"), {"upload": upload.pk}).content.decode()
    assert "data-upload-x" not in page and "not among yours" in page
    client.logout()
    assert client.get(reverse("explore-api:upload_map_position", args=[upload.pk])).status_code in (401, 403)


def test_map_page_without_and_with_a_layout(client, embedded_catalogue):
    html = client.get(reverse("gallery:catalogue_map")).content.decode()
    assert "No map yet" in html and "build_catalogue_map" in html
    catalogue_map_build(version=embedded_catalogue["version"])
    html = client.get(reverse("gallery:catalogue_map")).content.decode()
    assert "40 paintings" in html and reverse("explore-api:catalogue_map") in html
    assert "js/catalogue_map.js" in html


@pytest.mark.django_db
def test_command_says_what_to_do_without_embeddings():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="embed_catalogue"):
        call_command("build_catalogue_map", verbosity=0)


def test_an_embedded_artwork_links_to_its_place_on_the_map(client, embedded_catalogue, graph_clean):
    work = embedded_catalogue["works"][3]
    html = client.get(reverse("gallery:artwork_detail", args=[work.pk])).content.decode()
    assert f"{reverse('gallery:catalogue_map')}?focus={work.pk}" in html
    catalogue_map_build(version=embedded_catalogue["version"])
    html = client.get(reverse("gallery:catalogue_map"), {"focus": work.pk}).content.decode()
    assert f'data-focus="{work.pk}"' in html


def test_if_missing_builds_once(embedded_catalogue):
    call_command("build_catalogue_map", "--if-missing", verbosity=0)
    first = MapLayout.objects.get(model_version=embedded_catalogue["version"])
    call_command("build_catalogue_map", "--if-missing", verbosity=0)
    assert MapLayout.objects.get(model_version=embedded_catalogue["version"]).pk == first.pk
