"""Reads the API needs beyond gallery.selectors: uploads with their results, and lookups by id.

Each returns a QuerySet or one row with everything its serializer renders already loaded, so a page
of results costs a fixed number of queries whatever its length. `embedding` is never loaded here.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Prefetch, Q, QuerySet

from gallery.models import Artist, Artwork, Match, Prediction, Upload
from gallery.selectors import artwork_list


def upload_list(*, owner: AbstractBaseUser) -> QuerySet[Upload]:
    """The owner's uploads, newest first, with their predictions (not their matches)."""
    predictions = Prediction.objects.select_related("style").order_by("rank")
    return (
        Upload.objects.filter(owner=owner)
        .defer("embedding")
        .select_related("query_artist")
        .prefetch_related(Prefetch("predictions", queryset=predictions))
        .order_by("-created_at", "-id")
    )


def upload_get(*, owner: AbstractBaseUser, pk: int, with_results: bool = True) -> Upload | None:
    """One of the owner's uploads, or None when it does not exist *or belongs to someone else*.

    The two cases are deliberately indistinguishable, so ids of other people's uploads leak nothing.
    With `with_results`, predictions and matches (with their artworks) are prefetched.
    """
    if not with_results:
        return Upload.objects.filter(owner=owner, pk=pk).defer("embedding").first()
    matches = (
        Match.objects.select_related("artwork__artist", "artwork__style").defer("artwork__embedding").order_by("rank")
    )
    return upload_list(owner=owner).prefetch_related(Prefetch("matches", queryset=matches)).filter(pk=pk).first()


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
