"""Phone photos (HEIC/HEIF through pillow-heif, AVIF through Pillow) uploaded through the page and the API:
stored as a clean JPEG with the orientation applied once and no metadata; bad ones rejected, nothing stored.
The files are written here, by the same libraries (pillow-heif's x265 encoder, Pillow's libavif)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image, ImageCms
from rest_framework.test import APIClient

from gallery.forms import UploadForm
from gallery.images import STORED_MAX_SIDE, ImageRejected, _draft_to_stored_size, normalise_image
from gallery.models import Upload
from tests.factories import token_client

pytestmark = pytest.mark.django_db

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Jane Phone"/></rdf:RDF></x:xmpmeta>'
)
DAMAGED = "The image is damaged or incomplete (it could not be decoded)."
UNREADABLE = "The file is not an image we can read; use JPEG, PNG, WebP, HEIC or AVIF."


def _picture(size: tuple[int, int] = (320, 200)) -> Image.Image:
    """Left half red, right half blue: where the colours end up shows how the image was turned."""
    pixels = np.zeros((size[1], size[0], 3), np.uint8)
    pixels[:, : size[0] // 2] = (200, 30, 30)
    pixels[:, size[0] // 2 :] = (30, 30, 200)
    return Image.fromarray(pixels)


def _encoded(fmt: str, *, orientation: int | None = None, size: tuple[int, int] = (320, 200), **options) -> bytes:
    """A phone-like file: EXIF with the maker and a GPS position, an ICC profile and XMP, all to be dropped."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS latitude
    if orientation:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    _picture(size).save(buffer, format=fmt, quality=90, exif=exif.tobytes(), icc_profile=SRGB, xmp=XMP, **options)
    return buffer.getvalue()


def _assert_carries_metadata(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as source:
        assert source.getexif().get_ifd(0x8825) and source.info.get("icc_profile") == SRGB
        assert b"Jane Phone" in source.info["xmp"]


def _stored_files() -> set[str]:
    return {str(p) for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def _stored(upload: Upload) -> Image.Image:
    with upload.image.open("rb") as handle:
        image = Image.open(handle)
        image.load()
        return image


def _assert_clean(image: Image.Image) -> None:
    assert image.format == "JPEG"
    assert not image.getexif() and not {"icc_profile", "xmp", "exif", "comment"} & set(image.info)


def _api(user) -> APIClient:
    return token_client(user)


def _post(channel: str, client, owner, name: str, data: bytes) -> tuple[int, Upload | str]:
    """Upload through the page or the API: (status, the new Upload) or (status, the message shown)."""
    if channel == "page":
        client.force_login(owner)
        response = client.post(reverse("gallery:upload_create"), {"image": SimpleUploadedFile(name, data)})
        if response.status_code == 302:
            return 302, Upload.objects.get(owner=owner)
        return response.status_code, response.context["form"].errors["image"][0]
    response = _api(owner).post("/api/uploads/", {"image": SimpleUploadedFile(name, data)}, format="multipart")
    if response.status_code == 202:
        return 202, Upload.objects.get(pk=response.json()["id"])
    return response.status_code, response.json()["image"][0]


@pytest.mark.parametrize("channel", ["page", "api"])
@pytest.mark.parametrize("fmt, name", [("HEIF", "IMG_0001.HEIC"), ("AVIF", "photo.avif")])
def test_a_phone_photo_is_stored_as_a_clean_jpeg(client, owner, channel, fmt, name) -> None:
    data = _encoded(fmt)
    _assert_carries_metadata(data)

    status, upload = _post(channel, client, owner, name, data)

    assert status in {302, 202}, upload
    assert upload.original_filename == name and upload.image.name.endswith(".jpg")
    stored = _stored(upload)
    _assert_clean(stored)
    assert stored.size == (320, 200)
    left, right = stored.getpixel((40, 100)), stored.getpixel((280, 100))
    assert left[0] > 150 > left[2] and right[2] > 150 > right[0]


@pytest.mark.parametrize("channel", ["page", "api"])
@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_the_orientation_of_a_phone_photo_is_applied_once(client, owner, channel, fmt) -> None:
    data = _encoded(fmt, orientation=6)  # "rotate 90° clockwise to view"
    if fmt == "HEIF":
        # As a phone writes it: the rotation as an 'irot' box AND the EXIF orientation 6. pillow-heif applies
        # the first and resets the second, so exif_transpose must not turn the picture a second time.
        raw = pillow_heif.open_heif(io.BytesIO(data))
        assert raw[0]._c_image.transformations == (("irot", 270),)
        exif = Image.Exif()
        exif.load(raw.info["exif"])
        assert exif[0x0112] == 6
    else:
        # Pillow reads an AVIF unturned, with the EXIF orientation 6, and exif_transpose turns it.
        with Image.open(io.BytesIO(data)) as source:
            assert source.size == (320, 200) and source.getexif()[0x0112] == 6

    status, upload = _post(channel, client, owner, f"turned.{fmt.lower()}", data)

    assert status in {302, 202}, upload
    stored = _stored(upload)
    _assert_clean(stored)
    # Turned once: landscape became portrait, and the red left half is now the top (twice would be
    # landscape again, with blue on the left).
    assert stored.size == (200, 320)
    top, bottom = stored.getpixel((100, 40)), stored.getpixel((100, 280))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]


@pytest.mark.parametrize("channel", ["page", "api"])
def test_a_heic_with_too_many_pixels_is_refused_before_it_is_decoded(client, owner, channel) -> None:
    # The file stops right after its header (sizes and item locations; no EXIF, which libheif would read
    # at once): it cannot be decoded at all, so a "too large" answer proves that the limit is checked from
    # the header, before any decoding.
    buffer = io.BytesIO()
    _picture().save(buffer, format="HEIF", quality=90)
    header = buffer.getvalue()[: buffer.getvalue().index(b"mdat") + 4]
    with pytest.raises(ImageRejected, match="damaged or incomplete"):
        normalise_image(header)
    before = _stored_files()

    with override_settings(UPLOAD_MAX_PIXELS=50_000):
        status, message = _post(channel, client, owner, "big.heic", header)

    assert status == 400
    assert message == "The image is too large (320×200 pixels); the limit is 0 megapixels and 12000 pixels a side."
    assert not Upload.objects.exists() and _stored_files() == before


@pytest.mark.parametrize("channel", ["page", "api"])
@pytest.mark.parametrize("fmt, cut", [("HEIF", "data"), ("HEIF", "header"), ("AVIF", "data")])
def test_a_truncated_phone_photo_is_refused_and_nothing_is_stored(client, owner, channel, fmt, cut) -> None:
    # Cut in the picture's data, the EXIF written after it, or the header: always "damaged", even where
    # libheif already fails on opening and Pillow cannot tell what the file was.
    data = _encoded(fmt)
    truncated = data[: len(data) - 200] if cut == "data" else data[:200]
    before = _stored_files()

    status, message = _post(channel, client, owner, f"cut.{fmt.lower()}", truncated)

    assert (status, message) == (400, DAMAGED)
    assert not Upload.objects.exists() and _stored_files() == before


def test_a_file_that_is_not_an_image_still_names_the_formats() -> None:
    for data in (b"\0\0\0\x18ftypmp42" + bytes(100), b"not an image at all"):  # an MP4 video, text
        with pytest.raises(ImageRejected) as rejected:
            normalise_image(data)
        assert str(rejected.value) == UNREADABLE


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_a_large_phone_photo_is_stored_no_smaller_than_the_stored_size(fmt) -> None:
    # Halved by box averaging (4200 → 2100), then resampled to the stored size; never below it.
    stored = Image.open(normalise_image(_encoded(fmt, size=(4200, 300))))
    assert stored.size == (STORED_MAX_SIDE, 146)


def test_a_heic_holding_a_large_enough_preview_is_decoded_from_it() -> None:
    # A preview of the stored size is decoded instead of the picture; a phone's small one is not used.
    with_preview = _encoded("HEIF", size=(2100, 700), thumbnails=[2048])
    phone_like = _encoded("HEIF", size=(2100, 700), thumbnails=[320])
    for data, decoded in ((with_preview, (2048, 682)), (phone_like, (2100, 700))):
        with Image.open(io.BytesIO(data)) as img:
            _draft_to_stored_size(img)
            assert img.size == decoded
        stored = Image.open(normalise_image(data))
        assert max(stored.size) == STORED_MAX_SIDE
        _assert_clean(stored)


def test_the_upload_page_offers_the_camera_beside_the_file_chooser(client, owner) -> None:
    client.force_login(owner)
    html = client.get(reverse("gallery:upload_create")).content.decode()

    assert html.count('name="image"') == 2  # the file chooser and "Take a photo", one form field
    assert f'accept="{UploadForm.ACCEPT}"' in html
    for kind in ("image/heic", "image/heif", "image/avif", ".heic", ".heif", ".avif"):
        assert kind in UploadForm.ACCEPT.split(",")
    assert 'accept="image/*" capture="environment"' in html
    assert "Take a photo" in html
    # CSP: no inline script; the camera's photo is handed to the file chooser by a static file.
    assert "<script>" not in html and "gallery/camera_input.js" in html


def test_a_camera_photo_sent_without_javascript_is_taken(client, owner) -> None:
    # Without JavaScript the browser sends both inputs, in page order: the empty file chooser (a part
    # with filename="", which Django skips) and the camera's photo. Written by hand, as the test client
    # cannot send a file without a name.
    client.force_login(owner)
    boundary = "phone-boundary"
    parts = [
        (b'form-data; name="image"; filename=""', b""),
        (b'form-data; name="image"; filename="image.heic"', _encoded("HEIF")),
    ]
    body = b"".join(
        b"--%s\r\nContent-Disposition: %s\r\nContent-Type: application/octet-stream\r\n\r\n%s\r\n"
        % (boundary.encode(), disposition, content)
        for disposition, content in parts
    )
    body += b"--%s--\r\n" % boundary.encode()

    response = client.generic(
        "POST", reverse("gallery:upload_create"), body, content_type=f"multipart/form-data; boundary={boundary}"
    )

    assert response.status_code == 302
    upload = Upload.objects.get(owner=owner)
    assert upload.original_filename == "image.heic" and _stored(upload).size == (320, 200)
