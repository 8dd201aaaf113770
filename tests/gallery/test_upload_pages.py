"""A signed-in person's pages: upload form, upload page with live status and results, history, delete.

Who may see what is proven with the named users: `owner` sees their uploads, `other_user` gets 404s.
Results come from the real pipeline steps (style model, pgvector, Neo4j) run in this process.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from gallery.forms import UploadForm
from gallery.models import Artwork, Style, Upload
from recommender.tasks import analyse_upload, match_upload
from tests.factories import jpeg_bytes, upload_create


def _media_files() -> set:
    return {p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()}


def _painting_bytes(row: dict[str, str]) -> bytes:
    return (settings.DEMO_CATALOGUE_DIR / row["file"]).read_bytes()


def _finished_upload(owner, demo_catalogue, *, artist_hint: str = "") -> Upload:
    """An upload of a catalogue painting taken through both pipeline steps in this process (no broker)."""
    upload = Upload(owner=owner, original_filename="painting.jpg", artist_hint=artist_hint)
    upload.image.save("painting.jpg", ContentFile(_painting_bytes(demo_catalogue[0])), save=False)
    upload.save()
    analyse_upload.apply(args=[upload.pk])
    match_upload.apply(args=[upload.pk])
    upload.refresh_from_db()
    assert upload.status == Upload.Status.DONE, upload.error
    return upload


def _named_upload(owner, name: str, **fields) -> Upload:
    upload = upload_create(owner=owner, **fields)
    upload.original_filename = name
    upload.save(update_fields=["original_filename"])
    return upload


# --- Upload form -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_upload_page_requires_login(client):
    url = reverse("gallery:upload_create")
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert client.post(url, {"url": "https://example.org/a.jpg"}).status_code == 302
    assert Upload.objects.count() == 0


@pytest.mark.django_db
def test_upload_form_shows_limits_and_painter_choices(client, owner):
    from tests.factories import artist_create, artwork_create

    artwork_create(artist=artist_create(name="Claude Monet"))
    client.force_login(owner)
    response = client.get(reverse("gallery:upload_create"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert f'accept="{UploadForm.ACCEPT}"' in html and ".heic" in UploadForm.ACCEPT
    assert 'capture="environment"' in html  # a phone offers its camera directly
    assert "up to 10 MB" in html
    assert f"{settings.UPLOAD_MAX_PIXELS // 1_000_000} megapixels" in html
    assert '<option value="Claude Monet">' in html
    assert "Painter, if you know it" in html
    assert reverse("gallery:upload_create") in html and reverse("gallery:history") in html  # nav links


@pytest.mark.django_db
def test_posting_a_real_jpeg_creates_upload_and_redirects_to_it(client, owner):
    client.force_login(owner)
    painting = SimpleUploadedFile("sunset.jpg", jpeg_bytes(size=(400, 300)), content_type="image/jpeg")
    response = client.post(reverse("gallery:upload_create"), {"image": painting, "artist": " Claude Monet "})
    upload = Upload.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("gallery:upload_detail", args=[upload.pk])
    assert upload.owner == owner
    assert upload.original_filename == "sunset.jpg"
    assert upload.artist_hint == "Claude Monet"
    assert upload.status == Upload.Status.QUEUED
    assert upload.image.storage.exists(upload.image.name)

    page = client.get(response.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Analysing your painting" in html
    assert 'role="progressbar"' in html
    assert reverse("gallery:upload_status", args=[upload.pk]) in html
    assert "js/upload_status.js" in html
    assert 'http-equiv="refresh"' in html  # the no-JavaScript fallback


@pytest.mark.django_db
def test_non_image_shows_the_error_and_saves_nothing(client, owner):
    client.force_login(owner)
    before = _media_files()
    bogus = SimpleUploadedFile("notes.jpg", b"this is not an image at all", content_type="image/jpeg")
    response = client.post(reverse("gallery:upload_create"), {"image": bogus})
    assert response.status_code == 400
    assert response.context["form"].errors["image"] == [
        "The file is not an image we can read; use JPEG, PNG, WebP, HEIC or AVIF."
    ]
    html = response.content.decode()
    assert 'class="field-errors" id="id_image_errors"' in html
    assert "not an image we can read" in html
    assert Upload.objects.count() == 0
    assert _media_files() == before


@pytest.mark.django_db
def test_private_address_rejected_next_to_the_url_field(client, owner):
    client.force_login(owner)
    response = client.post(reverse("gallery:upload_create"), {"url": "http://127.0.0.1/painting.jpg"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["url"] == ["That address is not a public web address; only public http(s) images can be fetched."]
    assert "image" not in errors
    assert "not a public web address" in response.content.decode()
    assert Upload.objects.count() == 0


@pytest.mark.django_db
def test_empty_or_double_input_is_a_form_error(client, owner):
    client.force_login(owner)
    url = reverse("gallery:upload_create")
    empty = client.post(url, {"artist": "Monet"})
    assert empty.status_code == 400
    assert "Choose an image file" in empty.content.decode()
    both = client.post(
        url, {"image": SimpleUploadedFile("a.jpg", jpeg_bytes(size=(64, 64))), "url": "https://example.org/a.jpg"}
    )
    assert both.status_code == 400
    assert "not both" in both.content.decode()
    assert Upload.objects.count() == 0


# --- Upload page and status --------------------------------------------------------------------


@pytest.mark.django_db
def test_status_json_for_owner_and_404_for_others(client, owner, other_user):
    upload = upload_create(owner=owner, stage=Upload.Stage.CLASSIFYING, status=Upload.Status.RUNNING, progress=10)
    url = reverse("gallery:upload_status", args=[upload.pk])

    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert response.json() == {
        "id": upload.pk,
        "status": "running",
        "stage": "classifying",
        "stage_label": "Classifying the style",
        "progress": 10,
        "error": "",
        "finished": False,
        # The page's script moves the step tracker from these (one list of steps, in gallery.views).
        "steps": [
            {"key": "queued", "label": "Queued", "state": "done"},
            {"key": "classifying", "label": "Classifying", "state": "current"},
            {"key": "matching", "label": "Matching", "state": "todo"},
            {"key": "done", "label": "Done", "state": "todo"},
        ],
    }

    client.force_login(other_user)
    assert client.get(url).status_code == 404
    assert client.get(reverse("gallery:upload_status", args=[upload.pk + 1000])).status_code == 404


@pytest.mark.django_db
def test_status_json_requires_login(client, owner):
    upload = upload_create(owner=owner)
    response = client.get(reverse("gallery:upload_status", args=[upload.pk]))
    assert response.status_code == 302


@pytest.mark.django_db
def test_detail_is_404_for_other_user(client, owner, other_user):
    upload = upload_create(owner=owner)
    client.force_login(other_user)
    assert client.get(reverse("gallery:upload_detail", args=[upload.pk])).status_code == 404
    client.force_login(owner)
    assert client.get(reverse("gallery:upload_detail", args=[upload.pk])).status_code == 200


@pytest.mark.django_db
def test_failed_upload_shows_the_reason(client, owner):
    reason = "The image is damaged or incomplete (it could not be decoded)."
    upload = upload_create(
        owner=owner, status=Upload.Status.FAILED, stage=Upload.Stage.FAILED, progress=10, error=reason
    )
    client.force_login(owner)
    response = client.get(reverse("gallery:upload_detail", args=[upload.pk]))
    html = response.content.decode()
    assert "The analysis failed" in html
    assert reason in html
    assert "upload_status.js" not in html and 'http-equiv="refresh"' not in html
    steps = {s["key"]: s["state"] for s in response.context["steps"]}
    assert steps == {"queued": "done", "classifying": "failed", "matching": "todo", "done": "todo"}
    assert client.get(reverse("gallery:upload_status", args=[upload.pk])).json()["finished"] is True


def test_finished_upload_shows_chart_description_painters_and_similar_grid(
    client, owner, demo_catalogue, style_model, django_assert_max_num_queries
):
    first = demo_catalogue[0]
    upload = _finished_upload(owner, demo_catalogue, artist_hint=first["artist"])
    client.force_login(owner)

    with django_assert_max_num_queries(15):  # fixed cost, whatever the number of matches
        response = client.get(reverse("gallery:upload_detail", args=[upload.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    ctx = response.context

    # Prediction: the top five styles as bars with text percentages, the model version, the description.
    predictions = ctx["results"].predictions
    assert len(predictions) == 5
    assert [p.rank for p in predictions] == [1, 2, 3, 4, 5]
    assert html.count('class="style-bar-fill"') == 5
    assert f"{predictions[0].probability * 100:.1f}%" in html
    assert style_model.version in html
    top = Style.objects.get(pk=predictions[0].style_id)
    assert top.description and escape(top.description) in html  # as the template escapes it

    # Famous painters of that style, each linking to their page.
    famous = list(ctx["results"].famous_painters)
    if Artwork.objects.filter(style=top, artist__isnull=False).exists():
        assert famous
    else:  # some styles' catalogue works are all anonymous
        assert not famous and "No painter of this style" in html
    for painter in famous:
        assert painter.get_absolute_url() in html

    # Similar works: every match with its thumbnail, painter, style, score and reason.
    matches = list(ctx["results"].matches)
    assert len(matches) == 10
    assert html.count('class="card similar-card"') == 10  # the catalogue's artwork card, as a match
    for match in matches:
        assert f'<span class="rank-badge">#{match.rank}</span>' in html  # the match's own rank
        assert match.artwork.get_absolute_url() in html
        assert match.artwork.image.url in html
    assert "Visual similarity" in html
    assert f"{matches[0].final_score:.3f}" in html
    if first["artist"]:
        assert upload.query_artist is not None and upload.query_artist.name == first["artist"]
        assert ctx["painter_named"] is True
        assert "the painter you named" in html
    assert "influence re-ranking was skipped" not in html

    # A finished upload's results are rendered once and then served from the cache, unchanged. (6: the
    # session is read from PostgreSQL, which keeps signed-in pages working while Redis is down.)
    with django_assert_max_num_queries(6):
        again = client.get(reverse("gallery:upload_detail", args=[upload.pk]))
    section = html[html.index("data-prediction") :]  # the CSRF token in the nav differs per response
    assert again.content.decode().endswith(section)


def test_influence_path_is_shown_as_the_reason(client, owner, demo_catalogue, style_model):
    upload = _finished_upload(owner, demo_catalogue, artist_hint="Claude Monet")
    client.force_login(owner)
    html = client.get(reverse("gallery:upload_detail", args=[upload.pk])).content.decode()
    helped = [m for m in upload.matches.all() if m.influence_score > 0 and len(m.influence_path) > 1]
    for match in helped:
        assert match.influence_path[0] in html and match.influence_path[1] in html
    if any(m.influence_path == [upload.query_artist.name] for m in upload.matches.all() if upload.query_artist):
        assert "Same painter" in html


def test_influence_skipped_notice(client, owner, demo_catalogue, style_model, neo4j_down):
    upload = _finished_upload(owner, demo_catalogue, artist_hint="Claude Monet")
    assert upload.influence_skipped
    client.force_login(owner)
    html = client.get(reverse("gallery:upload_detail", args=[upload.pk])).content.decode()
    assert "influence re-ranking was skipped because the influence graph was unavailable" in html
    assert html.count('class="card similar-card"') == 10


# --- History and delete ------------------------------------------------------------------------


@pytest.mark.django_db
def test_history_lists_own_uploads_newest_first_paged(client, owner, other_user):
    now = timezone.now()
    mine = []
    for i in range(14):
        upload = _named_upload(owner, f"mine-{i:02d}.jpg")
        Upload.objects.filter(pk=upload.pk).update(created_at=now - timedelta(minutes=i))
        mine.append(upload)
    _named_upload(other_user, "theirs.jpg")

    client.force_login(owner)
    response = client.get(reverse("gallery:history"))
    assert response.status_code == 200
    page = response.context["page_obj"]
    assert page.paginator.count == 14
    assert [u.pk for u in page.object_list] == [u.pk for u in mine[:12]]
    html = response.content.decode()
    assert "mine-00.jpg" in html and "theirs.jpg" not in html
    assert html.index("mine-00.jpg") < html.index("mine-01.jpg")
    assert reverse("gallery:upload_delete", args=[mine[0].pk]) in html

    second = client.get(reverse("gallery:history"), {"page": 2})
    assert [u.pk for u in second.context["page_obj"].object_list] == [mine[12].pk, mine[13].pk]


@pytest.mark.django_db
def test_history_requires_login(client):
    assert client.get(reverse("gallery:history")).status_code == 302


def test_history_shows_top_style_and_status(client, owner, demo_catalogue, style_model):
    upload = _finished_upload(owner, demo_catalogue)
    client.force_login(owner)
    html = client.get(reverse("gallery:history")).content.decode()
    top = upload.predictions.order_by("rank").first()
    assert top.style.name in html
    assert "badge-done" in html


@pytest.mark.django_db(transaction=True)
def test_delete_removes_upload_and_file(client, owner):
    upload = _named_upload(owner, "gone.jpg")
    name, storage = upload.image.name, upload.image.storage
    assert storage.exists(name)
    client.force_login(owner)
    url = reverse("gallery:upload_delete", args=[upload.pk])
    assert client.get(url).status_code == 405  # deleting takes a POST

    response = client.post(url, follow=True)
    assert response.redirect_chain == [(reverse("gallery:history"), 302)]
    assert "Deleted “gone.jpg” and its results." in response.content.decode()
    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert not storage.exists(name)


@pytest.mark.django_db
def test_other_user_cannot_delete(client, owner, other_user):
    upload = upload_create(owner=owner)
    client.force_login(other_user)
    assert client.post(reverse("gallery:upload_delete", args=[upload.pk])).status_code == 404
    assert Upload.objects.filter(pk=upload.pk).exists()
    assert upload.image.storage.exists(upload.image.name)


# --- Catalogue pages linking back in -----------------------------------------------------------


def test_artwork_page_shows_similar_works(client, demo_catalogue):
    from gallery.models import Artwork

    artwork = Artwork.objects.get(source_id=demo_catalogue[0]["id"])
    response = client.get(artwork.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Similar to this" in html
    similar = response.context["similar"]
    assert 0 < len(similar.matches) <= 8
    assert artwork.pk not in [m.artwork.pk for m in similar.matches]
    assert html.count('class="card similar-card"') == len(similar.matches)
    assert [m.rank for m in similar.matches] == list(range(1, len(similar.matches) + 1))
    for match in similar.matches:
        assert f'<span class="rank-badge">#{match.rank}</span>' in html


@pytest.mark.django_db
def test_artwork_without_embedding_says_so_and_painter_page_links_similar(client):
    from tests.factories import artist_create, artwork_create

    artwork = artwork_create(title="Fresh", artist=artist_create(name="New Painter"))
    html = client.get(artwork.get_absolute_url()).content.decode()
    assert "not embedded yet" in html
    painter_html = client.get(artwork.artist.get_absolute_url()).content.decode()
    assert f"{artwork.get_absolute_url()}#similar" in painter_html


@pytest.mark.django_db
def test_history_cards_are_cached_until_an_upload_changes_and_per_session(client, owner):
    """A second view of the history reads no upload rows and renders no card; a change of any upload
    (its status here), a new upload or another session (its own CSRF secret) renders them afresh, and
    the delete forms always carry a token valid for this session."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    upload = _named_upload(owner, "cached.jpg")
    client.force_login(owner)
    first = client.get(reverse("gallery:history")).content.decode()
    with CaptureQueriesContext(connection) as again:
        second = client.get(reverse("gallery:history")).content.decode()
    assert "cached.jpg" in second and "badge-queued" in second
    assert not any('FROM "gallery_prediction"' in q["sql"] for q in again.captured_queries)
    assert not any('"gallery_upload"."original_filename"' in q["sql"] for q in again.captured_queries)
    assert first.count('class="upload-card"') == second.count('class="upload-card"') == 1

    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.FAILED, updated_at=timezone.now())
    assert "badge-failed" in client.get(reverse("gallery:history")).content.decode()
    _named_upload(owner, "newer.jpg")
    assert "newer.jpg" in client.get(reverse("gallery:history")).content.decode()

    # Another browser of the same person: its own CSRF secret, so its own cards; deleting works.
    other = Client(enforce_csrf_checks=True)
    other.force_login(owner)
    html = other.get(reverse("gallery:history")).content.decode()
    token = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = other.post(reverse("gallery:upload_delete", args=[upload.pk]), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and not Upload.objects.filter(pk=upload.pk).exists()
