"""Reads only the API needs, beyond gallery.selectors: catalogue lookups by id and filters.

Each returns a QuerySet or one row with everything its serializer renders already loaded, so a page
of results costs a fixed number of queries whatever its length. `embedding` is never loaded here.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from gallery.models import Artist, Artwork
from gallery.selectors import artwork_list


def artwork_search(*, style: str | None = None, artist: str | None = None) -> QuerySet[Artwork]:
    """Catalogue works filtered by style (slug or name, any case) and painter slug, in catalogue order."""
    qs = artwork_list(artist=artist)
    if style:
        style = style.strip()
        qs = qs.filter(Q(style__slug=style) | Q(style__name__iexact=style))
    return qs


def artwork_get_light(*, pk: int) -> Artwork | None:
    """One painting with painter, style and genre, without its embedding; None when unknown."""
    return artwork_list().filter(pk=pk).first()


def artist_get(*, pk: int) -> Artist | None:
    """One painter with `artwork_count`, or None when unknown."""
    return Artist.objects.annotate(artwork_count=Count("artworks")).filter(pk=pk).first()
