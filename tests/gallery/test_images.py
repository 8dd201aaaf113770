"""Validation and normalisation of user images (no services needed)."""

from __future__ import annotations

import io

import numpy as np
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


def _gradient(size: tuple[int, int]) -> Image.Image:
    return Image.merge(
        "RGB",
        [
            Image.linear_gradient("L").resize(size),
            Image.linear_gradient("L").rotate(90).resize(size),
            Image.new("L", size, 90),
        ],
    )


@pytest.mark.parametrize(
    ("size", "fmt", "stored"),
    [
        ((4032, 3024), "JPEG", (2016, 1512)),  # a phone photo: decoded at half scale, no resampling
        ((9000, 1200), "JPEG", (1125, 150)),  # 1/8 is the mildest scale that fits
        ((3000, 2000), "PNG", (2048, 1365)),  # no DCT scaling for PNG: resized
        ((2048, 1000), "JPEG", (2048, 1000)),  # already small enough: kept as it is
    ],
)
def test_large_images_are_stored_at_most_2048_px_and_still_look_the_same(size, fmt, stored) -> None:
    original = _gradient(size)
    clean = normalise_image(_bytes(original, fmt, quality=95) if fmt == "JPEG" else _bytes(original, fmt))
    with Image.open(io.BytesIO(clean.read())) as out:
        assert out.size == stored
        expected = original.resize(out.size, Image.Resampling.BOX)
        difference = np.abs(np.asarray(out, np.int16) - np.asarray(expected, np.int16))
        assert difference.mean() < 3  # the same picture, only smaller


def test_a_truncated_large_jpeg_is_still_refused() -> None:
    """The reduced-scale decode still reads every byte: a cut-off photo is refused, not stored grey."""
    data = _bytes(Image.effect_noise((4000, 3000), 60).convert("RGB"), "JPEG", quality=90)
    with pytest.raises(ImageRejected, match="damaged or incomplete"):
        normalise_image(data[: len(data) * 2 // 3])


# --- Metadata: only pixels are stored (issue 8, defect 4) ------------------------------------------

SECRET = "owner: Jane Doe, 12 Secret St"
XMP = (
    '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    f'xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="{SECRET}"/></rdf:RDF></x:xmpmeta>'
    '<?xpacket end="w"?>'
).encode()


def _exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x013B] = SECRET  # Artist
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 12.5)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "W", (0.0, 7.0, 39.0)
    return exif


def _icc() -> bytes:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return profile.tobytes()


def _with_everything(fmt: str) -> bytes:
    img = Image.effect_noise((120, 90), 40).convert("RGB")
    if fmt == "JPEG":
        return _bytes(img, "JPEG", exif=_exif_with_gps(), icc_profile=_icc(), comment=SECRET, xmp=XMP)
    if fmt == "PNG":
        from PIL.PngImagePlugin import PngInfo

        chunks = PngInfo()
        chunks.add_text("Author", SECRET)  # tEXt
        chunks.add_text("Comment", SECRET, zip=True)  # zTXt
        chunks.add_itxt("Description", SECRET, lang="en")  # iTXt
        chunks.add_itxt("XML:com.adobe.xmp", XMP.decode())  # XMP as PNG carries it
        return _bytes(img, "PNG", pnginfo=chunks, exif=_exif_with_gps(), icc_profile=_icc())
    return _bytes(img, "WEBP", exif=_exif_with_gps(), xmp=XMP, icc_profile=_icc(), quality=90)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_every_kind_of_metadata_is_gone_from_the_stored_file(fmt: str) -> None:
    original = _with_everything(fmt)
    with Image.open(io.BytesIO(original)) as check:  # the input really carries what we test for
        assert check.getexif().get(0x013B) == SECRET
        assert check.info.get("icc_profile")
    assert SECRET.encode() in original or fmt == "PNG"  # the zTXt copy is compressed; tEXt holds it plainly

    stored = normalise_image(original).read()

    assert SECRET.encode() not in stored
    for marker in (b"Exif", b"http://ns.adobe.com/xap", b"adobe:ns:meta", b"ICC_PROFILE", b"SecretCam"):
        assert marker not in stored, marker
    assert b"\xff\xfe" not in stored[: stored.find(b"\xff\xda")]  # no COM segment before the scan
    with Image.open(io.BytesIO(stored)) as out:
        assert out.format == "JPEG"
        assert len(out.getexif()) == 0
        assert not ({"comment", "exif", "icc_profile", "xmp", "XML:com.adobe.xmp"} & set(out.info)), out.info
        assert [marker for marker, _ in out.applist] == ["APP0"]  # the JFIF header only


@pytest.mark.django_db
def test_stored_upload_file_carries_no_metadata(owner) -> None:
    """The same through the upload service: the file in storage is what is checked."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gallery.services import upload_create

    data = _with_everything("JPEG")
    upload = upload_create(owner=owner, image_file=SimpleUploadedFile("me.jpg", data, content_type="image/jpeg"))
    with upload.image.open("rb") as handle:
        stored = handle.read()
    assert SECRET.encode() not in stored and b"Exif" not in stored and b"ICC_PROFILE" not in stored
