"""Phone photos (HEIC/HEIF through pillow-heif, AVIF through Pillow) uploaded through the page and the API:
stored as a clean JPEG with the orientation applied and no metadata; bad ones rejected, nothing stored."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from knox.models import AuthToken
from PIL import Image
from rest_framework.test import APIClient

from gallery.images import ImageRejected, normalise_image
from gallery.models import Upload

pytestmark = pytest.mark.django_db


def _picture(size: tuple[int, int] = (320, 200)) -> Image.Image:
    """Left half red, right half blue: where the colours end up shows how the image was turned."""
    pixels = np.zeros((size[1], size[0], 3), np.uint8)
    pixels[:, : size[0] // 2] = (200, 30, 30)
    pixels[:, size[0] // 2 :] = (30, 30, 200)
    return Image.fromarray(pixels)


def _encoded(fmt: str, *, orientation: int | None = None, size: tuple[int, int] = (320, 200)) -> bytes:
    image = _picture(size)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS: must not survive
    if orientation:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, quality=90, exif=exif.tobytes(), icc_profile=b"\0" * 128)
    return buffer.getvalue()


def _stored(upload: Upload) -> Image.Image:
    with upload.image.open("rb") as handle:
        image = Image.open(handle)
        image.load()
        return image


def _assert_clean(image: Image.Image) -> None:
    assert image.format == "JPEG"
    assert not image.getexif() and "icc_profile" not in image.info and "xmp" not in image.info


@pytest.mark.parametrize("fmt, name", [("HEIF", "IMG_0001.HEIC"), ("AVIF", "photo.avif")])
def test_phone_photo_through_the_page_is_stored_as_a_clean_jpeg(client, owner, fmt, name) -> None:
    client.force_login(owner)
    data = _encoded(fmt)
    assert Image.open(io.BytesIO(data)).getexif()  # the file really carries EXIF (with GPS) to strip

    response = client.post(reverse("gallery:upload_create"), {"image": SimpleUploadedFile(name, data)})

    assert response.status_code == 302
    upload = Upload.objects.get(owner=owner)
    assert upload.original_filename == name and upload.image.name.endswith(".jpg")
    stored = _stored(upload)
    _assert_clean(stored)
    assert stored.size == (320, 200)
    left, right = stored.getpixel((40, 100)), stored.getpixel((280, 100))
    assert left[0] > 150 > left[2] and right[2] > 150 > right[0]


def test_heic_through_the_api_and_its_orientation(owner) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=owner)[1]}")
    data = _encoded("HEIF", orientation=6)  # "rotate 90° clockwise to view"

    response = api.post("/api/uploads/", {"image": SimpleUploadedFile("IMG_0002.HEIC", data)}, format="multipart")

    assert response.status_code == 202, response.json()
    stored = _stored(Upload.objects.get(pk=response.json()["id"]))
    _assert_clean(stored)
    # Turned once (pillow-heif applies the orientation and resets it, so exif_transpose does nothing):
    # landscape became portrait, and the red left half is now the top.
    assert stored.size == (200, 320)
    top, bottom = stored.getpixel((100, 40)), stored.getpixel((100, 280))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]


def test_a_heic_with_too_many_pixels_is_refused_before_decoding(client, owner) -> None:
    client.force_login(owner)
    data = _encoded("HEIF", size=(640, 480))
    with override_settings(UPLOAD_MAX_PIXELS=200_000):
        response = client.post(reverse("gallery:upload_create"), {"image": SimpleUploadedFile("big.heic", data)})
    assert response.status_code == 400
    assert "too large (640×480 pixels)" in response.content.decode()
    assert not Upload.objects.exists()


def test_a_truncated_heic_is_refused_and_nothing_is_stored(client, owner) -> None:
    client.force_login(owner)
    data = _encoded("HEIF")
    before = default_storage.listdir("uploads") if default_storage.exists("uploads") else ([], [])
    response = client.post(
        reverse("gallery:upload_create"), {"image": SimpleUploadedFile("cut.heic", data[: len(data) // 2])}
    )
    assert response.status_code == 400
    assert (
        "damaged or incomplete" in response.content.decode() or "not an image we can read" in response.content.decode()
    )
    assert not Upload.objects.exists()
    after = default_storage.listdir("uploads") if default_storage.exists("uploads") else ([], [])
    assert after == before
    with pytest.raises(ImageRejected):
        normalise_image(data[: len(data) // 2])
