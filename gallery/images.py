"""Checking and normalising user images before anything is stored.

Every accepted upload must be JPEG, PNG, WebP, HEIC/HEIF (phones' default, through the pillow-heif
plug-in) or AVIF (Pillow itself), within byte, pixel and side limits (decompression bombs fail before
decoding: every format reports its size from its header), is decoded by Pillow (so truncated files fail
here), and is re-encoded as a JPEG with its orientation applied, under a random name. The stored file
holds pixels only: EXIF (with GPS), XMP, ICC profiles, JPEG comments and PNG text chunks are all
dropped. A large JPEG decodes at a reduced DCT scale; HEIC and AVIF have no such decode, so they are
decoded whole, then halved by box averaging while they stay at least STORED_MAX_SIDE, then resampled.

One exception to the full decode: a HEIC that holds a preview of at least STORED_MAX_SIDE on its long
side, a scaled copy of the picture (pillow-heif checks size, aspect, rotation, crop and colour profile),
is decoded from that preview instead, and the main picture's data is then not read. Phones write
previews of a few hundred pixels, so for their photos this does not apply.
"""

from __future__ import annotations

import io
import uuid
import warnings
from typing import BinaryIO

import pillow_heif
from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

# Once per process: importing pillow-heif (and libheif) costs ~17 ms, registering it 0.1 ms. HEIC/HEIF
# files then open like any other Pillow image. pillow-heif applies the file's rotation and mirror ('irot',
# 'imir') itself and resets the EXIF and XMP orientation to 1, so exif_transpose turns nothing twice
# (phones write both). Depth maps and auxiliary images (portrait mode, HDR gain maps) are never stored,
# so they are not read.
pillow_heif.register_heif_opener(depth_images=False, aux_images=False)

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF", "AVIF"}
PHONE_FORMATS = {"HEIF", "AVIF"}  # no reduced-scale decode: see _draft_to_stored_size
FORMATS_TEXT = "JPEG, PNG, WebP, HEIC or AVIF"
MAX_SIDE = 12_000
STORED_MAX_SIDE = 2048  # what the pages and the model need; the rest is storage cost
MIN_SIDE = 32


class ImageRejected(ValueError):
    """The file cannot be used; the message is written for the person who sent it."""


def _limits() -> tuple[int, int]:
    return settings.UPLOAD_MAX_BYTES, settings.UPLOAD_MAX_PIXELS


def human_size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def _draft_to_stored_size(img: Image.Image) -> None:
    """Let a JPEG larger than STORED_MAX_SIDE decode straight at 1/2, 1/4 or 1/8 scale (DCT scaling),
    the mildest one that fits: a 12-megapixel phone photo (4032 px) comes out at 2016 px with a
    quarter of the work and no resampling. Every byte is still read, so a damaged file still fails.

    HEVC has no reduced-scale decode. A HEIC may hold a preview: pillow-heif's `draft` decodes that
    instead when it is a scaled copy no smaller than asked, so ask for what will be stored (the long side
    at STORED_MAX_SIDE), never less. AVIF, PNG and WebP have no `draft`."""
    width, height = img.size
    if max(width, height) <= STORED_MAX_SIDE:
        return
    if img.format == "HEIF":
        # The long side at STORED_MAX_SIDE; the short one 2 px less, as encoders round a preview's sides
        # down to even numbers (3000 × 2000 → 2048 × 1364). pillow-heif still checks the aspect ratio.
        scale = STORED_MAX_SIDE / max(width, height)
        short = max(1, int(min(width, height) * scale) - 2)
        img.draft("RGB", (STORED_MAX_SIDE, short) if width >= height else (short, STORED_MAX_SIDE))
        return
    for scale in (2, 4, 8):
        if max(width, height) / scale <= STORED_MAX_SIDE:
            img.draft("RGB", (max(1, width // scale), max(1, height // scale)))
            return


def normalise_image(data: bytes | BinaryIO) -> ContentFile:
    """Validate an uploaded image and return a clean JPEG ready to store. Raises ImageRejected."""
    max_bytes, max_pixels = _limits()
    raw = data if isinstance(data, bytes) else data.read(max_bytes + 1)
    if len(raw) == 0:
        raise ImageRejected("The file is empty.")
    if len(raw) > max_bytes:
        raise ImageRejected(f"The file is larger than {human_size(max_bytes)}.")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; treat a warning as a bomb too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as img:
                if img.format not in ALLOWED_FORMATS:
                    raise ImageRejected(f"{img.format or 'This'} images are not supported; use {FORMATS_TEXT}.")
                image_format = img.format
                width, height = img.size
                if width * height > max_pixels or max(width, height) > MAX_SIDE:
                    raise ImageRejected(
                        f"The image is too large ({width}×{height} pixels); "
                        f"the limit is {max_pixels // 1_000_000} megapixels and {MAX_SIDE} pixels a side."
                    )
                if min(width, height) < MIN_SIDE:
                    raise ImageRejected(
                        f"The image is too small ({width}×{height}); at least {MIN_SIDE} pixels a side."
                    )
                _draft_to_stored_size(img)
                img.load()  # full decode: a truncated or corrupt file fails here
                # In place: a full-size copy of a photo costs ~10 ms, and nothing else holds `img`.
                ImageOps.exif_transpose(img, in_place=True)
                clean = img
                if clean.mode in {"RGBA", "LA", "P"}:
                    clean = clean.convert("RGBA")
                    background = Image.new("RGB", clean.size, "white")
                    background.paste(clean, mask=clean.getchannel("A"))
                    clean = background
                elif clean.mode != "RGB":
                    clean = clean.convert("RGB")
                # Pixels only: Pillow's JPEG encoder writes EXIF, ICC and XMP only when `save` is given
                # them, but the image's own `info["comment"]` goes back as a COM segment: drop it all.
                clean.info = {}
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("The image has too many pixels to be processed safely.") from exc
    except UnidentifiedImageError as exc:
        # A cut HEIC or AVIF often fails on opening (phones write the EXIF last, and libheif reads it
        # then), where Pillow can only say "cannot identify"; its container's brand says what it was.
        if pillow_heif.is_supported(io.BytesIO(raw[:12])):
            raise ImageRejected("The image is damaged or incomplete (it could not be decoded).") from exc
        raise ImageRejected(f"The file is not an image we can read; use {FORMATS_TEXT}.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected("The image is damaged or incomplete (it could not be decoded).") from exc

    # A HEIC or AVIF arrives at full size: halve it by box averaging first (Image.reduce, ~25 ms for
    # 24 megapixels) as long as it stays at least STORED_MAX_SIDE, then resample the rest; a 6000 px photo
    # costs ~150 ms less than with Lanczos all the way. Others keep Pillow's default (reducing gap 2).
    gap = 1.0 if image_format in PHONE_FORMATS else 2.0
    clean.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=gap)
    out = io.BytesIO()
    # No `optimize`: its second Huffman pass cost ~19 ms of a photo's web CPU for ~5 % of the bytes.
    clean.save(out, format="JPEG", quality=90)
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.jpg")
