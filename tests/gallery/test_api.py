"""The REST API under /api/: who may see what, uploads in and results out, the catalogue, the schema."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from PIL import Image
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from gallery.models import EMBEDDING_DIM, Artist, Artwork, Influence, Match, Prediction, Style, Upload
from tests.factories import token_client

UPLOADS = "/api/uploads/"


# --- Factories -----------------------------------------------------------------------------------


def jpeg_bytes(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (180, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG")
    return out.getvalue()


def jpeg_file(name: str = "my painting.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(), content_type="image/jpeg")


def make_style(name: str) -> Style:
    return Style.objects.create(name=name, slug=name.lower().replace(" ", "-"), description=f"About {name}.")


def make_artist(name: str) -> Artist:
    return Artist.objects.create(name=name, slug=name.lower().replace(" ", "-"))


def make_artwork(
    *, style: Style, artist: Artist | None = None, title: str = "", embedding: np.ndarray | None = None
) -> Artwork:
    n = Artwork.objects.count() + 1
    artwork = Artwork(source_id=f"t{n}-{title}", title=title, style=style, artist=artist, embedding=embedding)
    artwork.image.name = f"artworks/t{n}.jpg"  # the API only renders the URL; no file needed
    artwork.save()
    return artwork


def make_upload(owner, **values) -> Upload:
    upload = Upload(owner=owner, original_filename="x.jpg", **values)
    upload.image.name = "uploads/test/x.jpg"
    upload.save()
    return upload


def unit_vector(degrees: float) -> np.ndarray:
    """A unit vector at `degrees` from the first axis, in the plane of the first two axes."""
    v = np.zeros(EMBEDDING_DIM, dtype=np.float32)
    v[0], v[1] = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return v


def stored_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p) for p in root.rglob("*") if p.is_file()}


# --- Clients -------------------------------------------------------------------------------------


@pytest.fixture
def anon(db) -> APIClient:
    return APIClient()


def _token_client(user) -> APIClient:
    return token_client(user)


@pytest.fixture
def owner_api(owner) -> APIClient:
    return _token_client(owner)


@pytest.fixture
def other_api(other_user) -> APIClient:
    return _token_client(other_user)


# --- Authentication --------------------------------------------------------------------------------


def test_token_is_obtained_with_username_and_password_and_authenticates(anon, owner) -> None:
    response = anon.post("/api/auth/token/", {"username": "owner", "password": "owner-pass-123"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert AuthToken.objects.filter(user=owner, token_key=token[:15]).exists()  # stored as a hash only

    anon.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anon.get(UPLOADS).status_code == 200


def test_wrong_password_gets_no_token(anon, owner) -> None:
    response = anon.post("/api/auth/token/", {"username": "owner", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_session_authentication_works(anon, owner) -> None:
    make_upload(owner)
    assert anon.login(username="owner", password="owner-pass-123")
    response = anon.get(UPLOADS)
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_anonymous_callers_get_401_on_uploads(anon, owner) -> None:
    upload = make_upload(owner)
    for response in (
        anon.get(UPLOADS),
        anon.post(UPLOADS, {"image": jpeg_file()}, format="multipart"),
        anon.get(f"{UPLOADS}{upload.pk}/"),
        anon.delete(f"{UPLOADS}{upload.pk}/"),
    ):
        assert response.status_code == 401
        assert "detail" in response.json()
    assert Upload.objects.filter(pk=upload.pk).exists()


# --- Creating uploads ----------------------------------------------------------------------------


def test_multipart_jpeg_is_accepted_and_queued(owner_api, owner, django_capture_on_commit_callbacks) -> None:
    # Callbacks are captured, not run: the Celery enqueue is on_commit and there is no worker here.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_api.post(
            UPLOADS, {"image": jpeg_file("Sunrise.jpg"), "artist": " Claude Monet "}, format="multipart"
        )

    assert response.status_code == 202, response.content
    body = response.json()
    upload = Upload.objects.get(pk=body["id"])
    assert upload.owner == owner
    assert len(callbacks) == 1  # the analysis is enqueued once the row is committed
    assert body["status"] == "queued" and body["stage"] == "queued" and body["progress"] == 0
    assert body["original_filename"] == "Sunrise.jpg"
    assert body["artist_hint"] == "Claude Monet"
    assert body["image"].startswith("http://testserver/media/uploads/")
    assert body["predictions"] == [] and body["matches"] == []
    assert body["url"] == f"http://testserver/api/uploads/{upload.pk}/"
    assert response["Location"] == body["url"]
    assert default_storage.exists(upload.image.name)


def test_a_file_that_is_not_an_image_is_rejected_and_nothing_is_stored(owner_api) -> None:
    before = stored_files()
    fake = SimpleUploadedFile("painting.jpg", b"%PDF-1.4 definitely not a jpeg", content_type="image/jpeg")

    response = owner_api.post(UPLOADS, {"image": fake}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {"image": ["The file is not an image we can read; use JPEG, PNG, WebP, HEIC or AVIF."]}
    assert not Upload.objects.exists()
    assert stored_files() == before


def test_a_damaged_image_is_rejected_with_its_reason(owner_api) -> None:
    truncated = SimpleUploadedFile("cut.jpg", jpeg_bytes((400, 300))[:600], content_type="image/jpeg")
    response = owner_api.post(UPLOADS, {"image": truncated}, format="multipart")
    assert response.status_code == 400
    assert "damaged or incomplete" in response.json()["image"][0]
    assert not Upload.objects.exists()


@pytest.mark.parametrize(
    ("payload", "fmt", "message"),
    [
        ({"url": "https://example.com/a.jpg"}, "multipart", "not both"),  # image added below
        ({}, "json", "Send an image"),
        ({"artist": "Monet"}, "multipart", "Send an image"),
        ({"url": ""}, "json", "Send an image"),
    ],
)
def test_exactly_one_of_image_and_url_is_required(owner_api, payload, fmt, message) -> None:
    if message == "not both":
        payload = {**payload, "image": jpeg_file()}
    response = owner_api.post(UPLOADS, payload, format=fmt)
    assert response.status_code == 400
    assert message in response.json()["non_field_errors"][0]
    assert not Upload.objects.exists()


def test_a_url_to_a_private_address_is_refused(owner_api, settings) -> None:
    settings.UPLOAD_URL_EXTRA_ALLOWED_NETWORKS = []
    response = owner_api.post(UPLOADS, {"url": "http://127.0.0.1/x.jpg"}, format="json")
    assert response.status_code == 400
    assert "not a public web address" in response.json()["url"][0]
    assert not Upload.objects.exists()


def test_json_bodies_cannot_carry_a_file(owner_api) -> None:
    response = owner_api.post(UPLOADS, {"image": "aGVsbG8=", "url": ""}, format="json")
    assert response.status_code == 400
    assert "image" in response.json()


def test_upload_posts_are_throttled_and_reads_are_not(owner_api, monkeypatch) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"uploads": "2/minute"})
    cache.clear()
    try:
        codes = [owner_api.post(UPLOADS, {}, format="json").status_code for _ in range(3)]
        assert codes == [400, 400, 429]
        throttled = owner_api.post(UPLOADS, {}, format="json")
        assert "detail" in throttled.json() and "Retry-After" in throttled
        assert owner_api.get(UPLOADS).status_code == 200
    finally:
        cache.clear()


# --- Reading and deleting uploads ----------------------------------------------------------------


def test_list_shows_only_own_uploads_newest_first(owner_api, owner, other_user) -> None:
    first, second = make_upload(owner), make_upload(owner)
    make_upload(other_user)

    response = owner_api.get(UPLOADS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["next"] is None
    assert [u["id"] for u in body["results"]] == [second.pk, first.pk]
    assert "matches" not in body["results"][0]


def test_another_users_upload_is_404_never_403(owner_api, other_api, owner) -> None:
    upload = make_upload(owner)
    for response in (other_api.get(f"{UPLOADS}{upload.pk}/"), other_api.delete(f"{UPLOADS}{upload.pk}/")):
        assert response.status_code == 404
        assert response.json() == {"detail": "No upload with this id among yours."}
    assert Upload.objects.filter(pk=upload.pk).exists()
    # Same answer as an id that does not exist at all.
    assert other_api.get(f"{UPLOADS}{upload.pk + 1000}/").json() == {"detail": "No upload with this id among yours."}


def test_delete_removes_the_upload_and_its_image(owner_api, owner, django_capture_on_commit_callbacks) -> None:
    upload = make_upload(owner)
    upload.image.save("to-delete.jpg", ContentFile(jpeg_bytes()), save=True)
    name = upload.image.name
    assert default_storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.delete(f"{UPLOADS}{upload.pk}/")

    assert response.status_code == 204
    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert not default_storage.exists(name)
    assert owner_api.get(f"{UPLOADS}{upload.pk}/").status_code == 404


def _finished_upload(owner, n_matches: int = 3, tag: str = "") -> Upload:
    impressionism, cubism = make_style(f"Test Impressionism{tag}"), make_style(f"Test Cubism{tag}")
    monet, boudin = make_artist(f"Test Monet{tag}"), make_artist(f"Test Boudin{tag}")
    upload = make_upload(
        owner,
        status=Upload.Status.DONE,
        stage=Upload.Stage.DONE,
        progress=100,
        model_version="v-test",
        query_artist=monet,
    )
    # Inserted out of rank order: the API must order by rank.
    Prediction.objects.create(upload=upload, style=cubism, probability=0.2, rank=2, model_version="v-test")
    Prediction.objects.create(upload=upload, style=impressionism, probability=0.8, rank=1, model_version="v-test")
    for rank in range(n_matches, 0, -1):
        artwork = make_artwork(style=impressionism, artist=boudin if rank % 2 else None, title=f"Work {rank}")
        Match.objects.create(
            upload=upload,
            artwork=artwork,
            rank=rank,
            visual_score=0.9 - rank / 100,
            influence_score=1.0 if rank % 2 else 0.0,
            final_score=1.0 - rank / 100,
            influence_path=["Test Monet", "Test Boudin"] if rank % 2 else [],
        )
    return upload


def test_a_finished_upload_shows_predictions_and_matches_in_rank_order(owner_api, owner) -> None:
    upload = _finished_upload(owner)

    response = owner_api.get(f"{UPLOADS}{upload.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "done" and body["progress"] == 100 and body["model_version"] == "v-test"
    assert body["query_artist"]["name"] == "Test Monet"
    assert body["influence_skipped"] is False
    assert [(p["rank"], p["style"]["name"], p["probability"]) for p in body["predictions"]] == [
        (1, "Test Impressionism", 0.8),
        (2, "Test Cubism", 0.2),
    ]
    assert [m["rank"] for m in body["matches"]] == [1, 2, 3]
    best = body["matches"][0]
    assert set(best) == {"rank", "artwork", "visual_score", "influence_score", "final_score", "influence_path"}
    assert best["artwork"]["title"] == "Work 1"
    assert best["artwork"]["artist"]["name"] == "Test Boudin"
    assert best["artwork"]["style"]["slug"] == "test-impressionism"
    assert best["artwork"]["image"].startswith("http://testserver/media/artworks/")
    assert best["artwork"]["url"] == f"http://testserver/api/artworks/{best['artwork']['id']}/"
    assert best["influence_path"] == ["Test Monet", "Test Boudin"]
    assert body["matches"][1]["artwork"]["artist"] is None
    for key in ("id", "stage", "error", "created_at", "finished_at", "original_filename", "artist_hint"):
        assert key in body


def test_upload_reads_do_not_query_per_row(owner_api, owner) -> None:
    small = _finished_upload(owner, n_matches=1)
    with CaptureQueriesContext(connection) as one:
        assert owner_api.get(f"{UPLOADS}{small.pk}/").status_code == 200
    big = _finished_upload(owner, n_matches=8, tag=" 2")
    with CaptureQueriesContext(connection) as many:
        assert owner_api.get(f"{UPLOADS}{big.pk}/").status_code == 200
    assert len(many) == len(one)

    with CaptureQueriesContext(connection) as listing:
        assert owner_api.get(UPLOADS).json()["count"] == 2
    for _ in range(5):
        make_upload(owner)
    with CaptureQueriesContext(connection) as longer:
        assert owner_api.get(UPLOADS).json()["count"] == 7
    assert len(longer) == len(listing)


def test_status_is_what_a_client_polls_one_query_and_only_for_the_owner(owner_api, other_api, anon, owner) -> None:
    upload = _finished_upload(owner, n_matches=5)
    with CaptureQueriesContext(connection) as polled:
        response = owner_api.get(f"{UPLOADS}{upload.pk}/status/")
    with CaptureQueriesContext(connection) as full:
        owner_api.get(f"{UPLOADS}{upload.pk}/")
    assert response.status_code == 200
    assert response.json() == {
        "id": upload.pk,
        "url": f"http://testserver{UPLOADS}{upload.pk}/",
        "status": "done",
        "stage": "done",
        "progress": 100,
        "error": "",
        "finished_at": None,
    }
    # Authentication's queries plus one: the results are not read while polling.
    assert len(polled) <= len(full) - 3
    assert not any("gallery_match" in q["sql"] or "gallery_prediction" in q["sql"] for q in polled)
    running = make_upload(owner, status=Upload.Status.RUNNING, stage=Upload.Stage.MATCHING, progress=60)
    assert owner_api.get(f"{UPLOADS}{running.pk}/status/").json()["stage"] == "matching"
    assert other_api.get(f"{UPLOADS}{upload.pk}/status/").json() == {"detail": "No upload with this id among yours."}
    assert anon.get(f"{UPLOADS}{upload.pk}/status/").status_code == 401


@pytest.mark.slow
def test_uploaded_painting_analysed_by_the_pipeline_shows_results(demo_catalogue, owner, monkeypatch) -> None:
    """Real model and ranking: the API renders what the Celery tasks stored (run here, no worker)."""
    from recommender import tasks
    from recommender.tasks import analyse_upload, match_upload

    queued: list[int] = []
    monkeypatch.setattr(tasks, "upload_enqueue", queued.append)  # no broker message left behind
    client = _token_client(owner)
    painting = settings.DEMO_CATALOGUE_DIR / demo_catalogue[0]["file"]
    response = client.post(
        UPLOADS, {"image": SimpleUploadedFile("p.jpg", painting.read_bytes(), content_type="image/jpeg")}
    )
    assert response.status_code == 202, response.content
    upload_id = response.json()["id"]
    assert queued == [upload_id]

    analyse_upload.apply(args=[upload_id])
    match_upload.apply(args=[upload_id])
    body = client.get(f"{UPLOADS}{upload_id}/").json()

    assert body["status"] == "done", body["error"]
    assert body["finished_at"] is not None
    probabilities = [p["probability"] for p in body["predictions"]]
    assert probabilities and probabilities == sorted(probabilities, reverse=True)
    assert [m["rank"] for m in body["matches"]] == list(range(1, 11))
    # The uploaded file is a catalogue painting: recognised as that work (the upload's insights) and
    # left out of the matches, which are the closest *other* works.
    own = Artwork.objects.get(source_id=demo_catalogue[0]["id"])
    assert own.pk not in {m["artwork"]["id"] for m in body["matches"]}
    insight = client.get(f"{UPLOADS}{upload_id}/insights/").json()
    assert insight["duplicate_of"]["artwork"]["id"] == own.pk
    assert insight["duplicate_of"]["similarity"] > 0.95


# --- Catalogue -----------------------------------------------------------------------------------


def test_artworks_are_public_paged_and_filtered_by_style_and_artist(anon) -> None:
    cubism, fauvism = make_style("Test Cubism"), make_style("Test Fauvism")
    braque = make_artist("Test Braque")
    a = make_artwork(style=cubism, artist=braque, title="Houses")
    b = make_artwork(style=cubism, title="Guitar")
    make_artwork(style=fauvism, title="Boats")

    by_slug = anon.get("/api/artworks/", {"style": "test-cubism"}).json()
    assert by_slug["count"] == 2
    assert [w["id"] for w in by_slug["results"]] == [a.pk, b.pk]
    assert {"id", "title", "artist", "style", "image", "url", "year", "genre"} <= set(by_slug["results"][0])
    by_name = anon.get("/api/artworks/", {"style": "test CUBISM"}).json()
    assert [w["id"] for w in by_name["results"]] == [a.pk, b.pk]
    both = anon.get("/api/artworks/", {"style": "test-cubism", "artist": "test-braque"}).json()
    assert [w["id"] for w in both["results"]] == [a.pk]
    assert anon.get("/api/artworks/", {"style": "no-such-style"}).json()["count"] == 0
    assert set(anon.get("/api/artworks/").json()) == {"count", "next", "previous", "results"}


def test_artwork_detail_and_unknown_id(anon) -> None:
    artwork = make_artwork(style=make_style("Test Cubism"), title="Houses")
    body = anon.get(f"/api/artworks/{artwork.pk}/").json()
    assert body["title"] == "Houses" and body["page_url"] == f"http://testserver/artworks/{artwork.pk}/"
    response = anon.get(f"/api/artworks/{artwork.pk + 1000}/")
    assert response.status_code == 404 and response.json() == {"detail": "No artwork with this id."}


def test_artworks_are_read_only(owner_api) -> None:
    assert owner_api.post("/api/artworks/", {}, format="json").status_code == 405


def test_similar_works_are_ranked_for_an_embedded_artwork(anon, graph_clean) -> None:
    style = make_style("Test Cubism")
    query = make_artwork(style=style, artist=make_artist("Test Braque"), title="Query", embedding=unit_vector(0))
    near = make_artwork(style=style, title="Near", embedding=unit_vector(10))
    middle = make_artwork(style=style, title="Middle", embedding=unit_vector(30))
    far = make_artwork(style=style, title="Far", embedding=unit_vector(60))
    make_artwork(style=style, title="Unrelated", embedding=unit_vector(90))
    make_artwork(style=style, title="Not embedded")

    response = anon.get(f"/api/artworks/{query.pk}/similar/", {"k": 3})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["influence_skipped"] is False
    assert body["query_artist"]["name"] == "Test Braque"
    assert [m["rank"] for m in body["matches"]] == [1, 2, 3]
    assert [m["artwork"]["id"] for m in body["matches"]] == [near.pk, middle.pk, far.pk]  # itself excluded
    assert [m["visual_score"] for m in body["matches"]] == pytest.approx(
        [math.cos(math.radians(d)) for d in (10, 30, 60)], abs=1e-4
    )
    assert set(body["matches"][0]) == {
        "rank",
        "artwork",
        "visual_score",
        "influence_score",
        "final_score",
        "influence_path",
    }
    assert len(anon.get(f"/api/artworks/{query.pk}/similar/").json()["matches"]) == 4  # k defaults to 10


def test_similar_k_is_bounded(anon) -> None:
    artwork = make_artwork(style=make_style("Test Cubism"), embedding=unit_vector(0))
    for k in (0, 51, "many"):
        response = anon.get(f"/api/artworks/{artwork.pk}/similar/", {"k": k})
        assert response.status_code == 400
        assert "k" in response.json()


def test_similar_for_an_artwork_without_embedding_is_409(anon) -> None:
    artwork = make_artwork(style=make_style("Test Cubism"))
    response = anon.get(f"/api/artworks/{artwork.pk}/similar/")
    assert response.status_code == 409
    assert "not embedded yet" in response.json()["detail"]
    assert anon.get(f"/api/artworks/{artwork.pk + 1000}/similar/").status_code == 404


def test_artists_are_searchable_and_show_influences_both_ways(anon) -> None:
    monet, boudin, cezanne = make_artist("Test Monet"), make_artist("Test Boudin"), make_artist("Test Cezanne")
    Influence.objects.create(artist=monet, influencer=boudin)
    Influence.objects.create(artist=cezanne, influencer=monet)
    make_artwork(style=make_style("Test Impressionism"), artist=monet)

    found = anon.get("/api/artists/", {"q": "mon"}).json()
    assert [a["name"] for a in found["results"]] == ["Test Monet"]
    assert found["results"][0]["artwork_count"] == 1

    body = anon.get(f"/api/artists/{monet.pk}/").json()
    assert body["influenced_by"] == [{"id": boudin.pk, "name": "Test Boudin", "slug": "test-boudin"}]
    assert body["influenced"] == [{"id": cezanne.pk, "name": "Test Cezanne", "slug": "test-cezanne"}]
    assert anon.get(f"/api/artists/{cezanne.pk + 1000}/").status_code == 404


def test_styles_list_descriptions_and_counts(anon) -> None:
    style = make_style("Test Cubism")
    make_artwork(style=style)
    make_artwork(style=style)

    styles = {s["slug"]: s for s in anon.get("/api/styles/").json()}

    assert styles["test-cubism"]["artwork_count"] == 2
    assert styles["test-cubism"]["description"] == "About Test Cubism."


# --- Schema and docs -----------------------------------------------------------------------------


def test_schema_is_served(anon) -> None:
    response = anon.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/uploads/", "/api/uploads/{id}/", "/api/artworks/{id}/similar/"} <= set(schema["paths"])
    upload_post = schema["paths"]["/api/uploads/"]["post"]
    assert set(upload_post["requestBody"]["content"]) == {"multipart/form-data", "application/json"}
    assert {"202", "400", "401"} <= set(upload_post["responses"])
    assert "409" in schema["paths"]["/api/artworks/{id}/similar/"]["get"]["responses"]


def test_schema_generates_without_warnings_and_validates(tmp_path, db) -> None:
    # --fail-on-warn raises on any generator warning; --validate checks against the OpenAPI 3 spec.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


def test_docs_page_is_served(anon) -> None:
    response = anon.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    # The start-up script is a file of its own (no inline script under the CSP); it points at the schema.
    script_url = re.search(r'<script src="(/api/docs/\?[^"]+)"', response.content.decode()).group(1)
    script = anon.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200 and b"/api/schema/" in script.content


def test_docs_page_loads_its_assets_locally_when_the_sidecar_is_installed(anon) -> None:
    """There is no internet in production: Swagger UI's JS and CSS must come from our static files."""
    if "drf_spectacular_sidecar" not in settings.INSTALLED_APPS:
        pytest.skip("drf-spectacular-sidecar not configured (SWAGGER_UI_DIST='SIDECAR')")
    response = anon.get("/api/docs/")
    assets = [a for a in re.findall(r'(?:src|href)="([^"]+)"', response.content.decode()) if a != "/api/docs/?script="]
    assert assets
    assert all(a.startswith(settings.STATIC_URL) for a in assets), assets
    assert all(finders.find(a.removeprefix(settings.STATIC_URL)) for a in assets)


def test_no_schema_alternative_that_an_empty_string_matches_twice(anon) -> None:
    schema = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    found = []

    def walk(node, where):
        if isinstance(node, dict):
            if {"type": "string", "maxLength": 0} in node.get("oneOf", []):
                found.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for n, value in enumerate(node):
                walk(value, f"{where}/{n}")

    walk(schema, "")
    assert found == []
    artists_q = next(p for p in schema["paths"]["/api/artists/"]["get"]["parameters"] if p["name"] == "q")
    assert {"type": "string", "maxLength": 0} in artists_q["schema"]["anyOf"]


def test_the_upload_post_answers_what_a_read_gives_without_reading_it_back(owner_api) -> None:
    """The 202 is rendered from the row just created (no predictions, matches or insight yet), so it
    costs no read-back queries, and says exactly what a GET of the upload says."""
    with CaptureQueriesContext(connection) as posted:
        response = owner_api.post(UPLOADS, {"image": jpeg_file(), "artist": "Claude Monet"}, format="multipart")
    assert response.status_code == 202
    reads = [q["sql"] for q in posted.captured_queries if q["sql"].startswith("SELECT")]
    assert not any(table in sql for sql in reads for table in ("gallery_prediction", "gallery_match", "uploadinsight"))
    detail = owner_api.get(response["Location"])
    assert response.json() == detail.json()
    assert response.json()["matches"] == [] and response.json()["insights"] is None
