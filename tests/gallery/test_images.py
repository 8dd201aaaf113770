"""Validation and normalisation of user images (no services needed)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gallery.images import ImageRejected, normalise_image


def _bytes(img: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **kwargs)
    return out.getvalue()


def test_accepts_jpeg_png_webp_and_reencodes_as_jpeg() -> None:
    for fmt in ("JPEG", "PNG", "WEBP"):
        clean = normalise_image(_bytes(Image.new("RGB", (300, 200), "red"), fmt))
        with Image.open(io.BytesIO(clean.read())) as img:
            assert img.format == "JPEG"
            assert img.size == (300, 200)
        assert clean.name.endswith(".jpg") and len(clean.name) == 36  # random name, never the user's


def test_exif_orientation_applied_and_metadata_stripped() -> None:
    img = Image.new("RGB", (300, 200), "blue")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° when displayed
    exif[0x010F] = "SecretCam"
    clean = normalise_image(_bytes(img, "JPEG", exif=exif))
    with Image.open(io.BytesIO(clean.read())) as out:
        assert out.size == (200, 300)
        assert len(out.getexif()) == 0


def test_transparent_png_flattened_on_white() -> None:
    clean = normalise_image(_bytes(Image.new("RGBA", (64, 64), (0, 0, 0, 0)), "PNG"))
    with Image.open(io.BytesIO(clean.read())) as out:
        assert out.mode == "RGB"
        assert out.getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"%PDF-1.4 definitely not an image", "not an image"),
        (_bytes(Image.new("RGB", (64, 64)), "GIF"), "GIF images are not supported"),
        (_bytes(Image.new("RGB", (400, 400), "green"), "JPEG")[:600], "damaged or incomplete"),
        (_bytes(Image.new("1", (9000, 9000)), "PNG"), "too large"),
        (_bytes(Image.new("RGB", (10, 10)), "PNG"), "too small"),
    ],
    ids=["empty", "pdf", "gif", "truncated", "bomb", "tiny"],
)
def test_rejections_have_readable_messages(data: bytes, message: str) -> None:
    with pytest.raises(ImageRejected, match=message):
        normalise_image(data)


def test_size_limit(settings) -> None:
    settings.UPLOAD_MAX_BYTES = 1000
    with pytest.raises(ImageRejected, match="larger than"):
        normalise_image(_bytes(Image.effect_noise((200, 200), 50).convert("RGB"), "PNG"))
