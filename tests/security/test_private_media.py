"""Upload images are private: owner (and staff) only, whatever the URL is spelt; the catalogue is public."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from knox.models import AuthToken

from gallery.storage import MediaStorage
from tests.factories import artwork_create, upload_create


@pytest.fixture
def upload(owner):
    return upload_create(owner=owner)


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_owner_gets_the_image_streamed_and_kept_out_of_shared_caches(upload, owner) -> None:
    response = _client(owner).get(upload.image.url)
    assert response.status_code == 200
    assert response.streaming  # FileResponse: file chunks (sendfile under gunicorn), not one big string
    with upload.image.open("rb") as handle:
        assert _body(response) == handle.read()
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=86400"


@pytest.mark.parametrize("who", ["anonymous", "other", "staff-without-permission"])
def test_anyone_else_gets_404(upload, other_user, who: str) -> None:
    user = None
    if who == "other":
        user = other_user
    elif who == "staff-without-permission":
        user = get_user_model().objects.create_user("clerk", password="clerk-pass-123", is_staff=True)
    assert _client(user).get(upload.image.url).status_code == 404


def test_admin_and_staff_who_may_view_uploads_get_it(upload, admin_user) -> None:
    assert _client(admin_user).get(upload.image.url).status_code == 200
    curator = get_user_model().objects.create_user("curator", password="curator-pass-123", is_staff=True)
    curator.user_permissions.add(Permission.objects.get(codename="view_upload"))
    assert _client(curator).get(upload.image.url).status_code == 200


def test_api_callers_fetch_their_image_with_their_token(upload, owner, other_user) -> None:
    mine = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=owner)[1]}")
    theirs = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=other_user)[1]}")
    assert mine.get(upload.image.url).status_code == 200
    assert theirs.get(upload.image.url).status_code == 404
    assert Client(HTTP_AUTHORIZATION="Token not-a-token").get(upload.image.url).status_code == 404


def test_other_spellings_of_the_path_do_not_bypass_the_check(upload) -> None:
    name = upload.image.name
    for path in (
        f"/media/./{name}",
        f"/media//{name}",
        f"/media/artworks/../{name}",
        f"/media/artworks/%2e%2e/{name}",
        f"/media/{name.replace('uploads/', 'uploads/./')}",
    ):
        assert Client().get(path).status_code == 404, path


def test_catalogue_images_stay_public(db) -> None:
    artwork = artwork_create()
    response = Client().get(artwork.image.url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_behind_nginx_django_checks_and_nginx_sends(upload, owner, other_user, settings) -> None:
    settings.PRIVATE_MEDIA_X_ACCEL_REDIRECT = "/protected-media/"
    response = _client(owner).get(upload.image.url)
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{upload.image.name}"
    assert _client(other_user).get(upload.image.url).status_code == 404


def test_s3_upload_urls_are_signed_for_minutes_and_catalogue_urls_are_plain(settings) -> None:
    """Presigning is done by botocore locally (no request to any S3 server)."""
    settings.PRIVATE_MEDIA_URL_EXPIRE_S = 300
    storage = MediaStorage(
        bucket_name="art",
        endpoint_url="http://127.0.0.1:9000",
        access_key="test-access",
        secret_key="test-secret",
        region_name="us-east-1",
        querystring_expire=3600,
        signature_version="s3v4",  # what the settings choose (AWS_S3_SIGNATURE_VERSION)
    )
    private = storage.url("uploads/2026/11/abc.jpg")
    assert "X-Amz-Signature=" in private and "X-Amz-Expires=300" in private
    public = storage.url("artworks/monet.jpg")
    assert "X-Amz-" not in public and public.endswith("/art/artworks/monet.jpg")
