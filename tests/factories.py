"""Small factories for catalogue rows. Images are real tiny JPEGs written through the default storage."""

from __future__ import annotations

import io
import itertools
import time
from typing import Any

from django.core.files.base import ContentFile
from django.utils.text import slugify
from PIL import Image

from gallery.models import Artist, Artwork, Genre, Influence, Style, Upload

_seq = itertools.count(1)


def jpeg_bytes(*, size: tuple[int, int] = (16, 20), color: tuple[int, int, int] = (180, 90, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def style_get(name: str = "Impressionism") -> Style:
    """One of the 13 styles the data migration seeds (created if a test flushed them)."""
    return Style.objects.get_or_create(name=name, defaults={"slug": slugify(name)})[0]


def genre_create(*, name: str | None = None) -> Genre:
    name = name or f"Genre {next(_seq)}"
    return Genre.objects.get_or_create(name=name, defaults={"slug": slugify(name)})[0]


def artist_create(*, name: str | None = None, **fields: Any) -> Artist:
    name = name or f"Painter {next(_seq)}"
    fields.setdefault("slug", slugify(name))
    return Artist.objects.create(name=name, **fields)


def artwork_create(
    *,
    title: str = "",
    artist: Artist | None = None,
    style: Style | None = None,
    genre: Genre | None = None,
    year: int | None = None,
    **fields: Any,
) -> Artwork:
    n = next(_seq)
    artwork = Artwork(
        source_id=fields.pop("source_id", f"test-{n}"),
        title=title,
        artist=artist,
        style=style or style_get(),
        genre=genre,
        year=year,
        **fields,
    )
    artwork.image.save(f"test-{n}.jpg", ContentFile(jpeg_bytes()), save=False)
    artwork.save()
    return artwork


def artworks_create(count: int, *, title: str = "Work", **kwargs: Any) -> list[Artwork]:
    return [artwork_create(title=f"{title} {i}", **kwargs) for i in range(count)]


def influence_create(*, artist: Artist, influencer: Artist, source: str = "") -> Influence:
    """A database row only; tests of the Neo4j mirror go through the services or the admin."""
    return Influence.objects.create(artist=artist, influencer=influencer, source=source)


def upload_create(*, owner: Any, **fields: Any) -> Upload:
    upload = Upload(owner=owner, original_filename="photo.jpg", **fields)
    upload.image.save("photo.jpg", ContentFile(jpeg_bytes()), save=False)
    upload.save()
    return upload


def upload_wait_finished(upload_id: int, timeout: float = 60) -> Upload:
    """The upload once a real worker has finished it (done or failed); fails the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        upload = Upload.objects.get(pk=upload_id)
        if upload.is_finished:
            return upload
        time.sleep(0.1)
    raise AssertionError(f"upload {upload_id} still {upload.status}/{upload.stage} after {timeout}s")


def token_client(user: Any) -> Any:
    """A DRF test client that sends a fresh API token of `user`."""
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client
