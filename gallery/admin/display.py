"""How the admin shows a row's image and the state of its embedding (artworks and uploads)."""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html

from ..models import Artwork, Upload


def thumbnail(image: Any, size: int = 64) -> str:
    if not image:
        return "—"
    return format_html(
        '<img src="{}" alt="" width="{}" height="{}" loading="lazy" style="object-fit:cover;border-radius:4px">',
        image.url,
        size,
        size,
    )


def embedding_status(obj: Artwork | Upload, version: str) -> str:
    # The 1280-d vector itself is useless in a form (and ~10 KB per row); say what produced it instead.
    if obj.embedding is None:
        return "not embedded yet"
    return f"embedded with {version}" if version else "embedded (version unknown)"
