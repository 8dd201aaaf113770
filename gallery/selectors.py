"""Reads of the catalogue for pages, the API and the recommender. Each returns a QuerySet (or one row).

Lists never load `embedding`: a 1280-d vector per row is ~10 KB on the wire and no page shows it.
"""

from __future__ import annotations

from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, IntegerField, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.text import slugify

from .models import Artist, Artwork, Influence, Match, Prediction, Style, Upload


def artwork_list(*, style: str | None = None, artist: str | None = None, q: str | None = None) -> QuerySet[Artwork]:
    """Paintings filtered by style slug, painter slug and a case-insensitive title search, in catalogue order."""
    qs = Artwork.objects.select_related("artist", "style", "genre").defer("embedding")
    if style:
        qs = qs.filter(style__slug=style)
    if artist:
        qs = qs.filter(artist__slug=artist)
    if q:
        qs = qs.filter(title__icontains=q.strip())
    return qs


def artwork_get(*, pk: int) -> Artwork | None:
    """One painting with its painter, style and genre, or None when the id is unknown."""
    return Artwork.objects.select_related("artist", "style", "genre").filter(pk=pk).first()


def artworks_by_artist(*, artist: Artist, exclude_pk: int | None = None, limit: int = 8) -> QuerySet[Artwork]:
    """A painter's other works for the "More by this painter" strip."""
    qs = artwork_list(artist=artist.slug)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs[:limit]


def artist_get_by_slug(*, slug: str) -> Artist | None:
    return Artist.objects.filter(slug=slug).annotate(artwork_count=Count("artworks")).first()


def artist_list(*, q: str | None = None) -> QuerySet[Artist]:
    """Painters by name with their number of works (`artwork_count`), optionally searched by name."""
    qs = Artist.objects.annotate(artwork_count=Count("artworks"))
    if q:
        qs = qs.filter(name__icontains=q.strip())
    return qs.order_by("name")


def artists_with_works() -> QuerySet[Artist]:
    """Painters who have at least one work in the catalogue: the choices of the painter filter."""
    return Artist.objects.filter(artworks__isnull=False).distinct().only("name", "slug").order_by("name")


def artist_style_counts(*, artist: Artist) -> QuerySet[Style]:
    """The styles a painter worked in, with `artwork_count` for that painter, most works first."""
    return (
        Style.objects.filter(artworks__artist=artist)
        .annotate(artwork_count=Count("artworks"))
        .order_by("-artwork_count", "name")
    )


def styles_with_counts() -> QuerySet[Style]:
    """Every style with `artwork_count` and `cover_image` (storage name of its first work, or None)."""
    cover = Artwork.objects.filter(style=OuterRef("pk")).order_by("id").values("image")[:1]
    return Style.objects.annotate(artwork_count=Count("artworks"), cover_image=Subquery(cover)).order_by("name")


def _influence_links() -> Coalesce:
    """Number of influence edges touching a painter, both directions, as one annotation expression.

    Subqueries rather than two Counts over joins: joining received × given × works multiplies rows.
    """
    received = (
        Influence.objects.filter(artist=OuterRef("pk")).order_by().values("artist").annotate(n=Count("pk")).values("n")
    )
    given = (
        Influence.objects.filter(influencer=OuterRef("pk"))
        .order_by()
        .values("influencer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(received, output_field=IntegerField()), Value(0)) + Coalesce(
        Subquery(given, output_field=IntegerField()), Value(0)
    )


def style_famous_painters(*, style: Style | str, limit: int = 5) -> QuerySet[Artist]:
    """Painters with the most works in `style` (a Style or its slug), ties broken by influence links, then name.

    Each row carries `style_works` and `influence_links`.
    """
    style_q = Q(artworks__style=style) if isinstance(style, Style) else Q(artworks__style__slug=style)
    return (
        # filter() before annotate(): Count then counts only the works of that style (same join).
        Artist.objects.filter(style_q)
        .annotate(style_works=Count("artworks"), influence_links=_influence_links())
        .order_by("-style_works", "-influence_links", "name")[:limit]
    )


class ArtistInfluences(NamedTuple):
    influenced_by: QuerySet[Artist]  # painters who influenced the artist
    influenced: QuerySet[Artist]  # painters the artist influenced


def artist_influences(artist: Artist) -> ArtistInfluences:
    """Both directions of the PostgreSQL Influence table for one painter (the source of truth for Neo4j)."""
    return ArtistInfluences(
        influenced_by=Artist.objects.filter(influences_given__artist=artist).order_by("name"),
        influenced=Artist.objects.filter(influences_received__influencer=artist).order_by("name"),
    )


def catalogue_counts() -> dict[str, int]:
    """Headline numbers for the home page."""
    return {
        "artworks": Artwork.objects.count(),
        "artists": Artist.objects.filter(artworks__isnull=False).distinct().count(),
        "styles": Style.objects.count(),
    }


def upload_history(*, owner) -> QuerySet[Upload]:
    """The owner's uploads, newest first, each with only its top prediction (`top_predictions`)."""
    top = Prediction.objects.filter(rank=1).select_related("style")
    return (
        Upload.objects.filter(owner=owner)
        .defer("embedding", "error", "source_url")
        .prefetch_related(Prefetch("predictions", queryset=top, to_attr="top_predictions"))
        .order_by("-created_at", "-id")
    )


def upload_history_changed_at(*, owner) -> float:
    """When the owner's uploads last changed (status, results: every write of an upload sets
    `updated_at`), as a timestamp; with their count (the paginator's) it is what the history's cached
    cards depend on. One aggregate query, where rendering the cards took two queries and most of the
    page's CPU (issue 19)."""
    last = Upload.objects.filter(owner=owner).aggregate(last=Max("updated_at"))["last"]
    return last.timestamp() if last else 0.0


def artist_from_hint(hint: str) -> Artist | None:
    """The painter a person named (by name, any case, or slug), or None when the catalogue lacks them."""
    hint = hint.strip()
    if not hint:
        return None
    return Artist.objects.filter(Q(name__iexact=hint) | Q(slug=slugify(hint))).first()


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


def upload_created_view(upload: Upload) -> Upload:
    """An upload this request just created, ready for the detail serializer without reading it back:
    it has no predictions, matches or insight yet (its analysis is only queued). Reading them back
    was four queries and about half the upload POST's CPU (issue 19)."""
    upload._prefetched_objects_cache = {"predictions": Prediction.objects.none(), "matches": Match.objects.none()}
    upload._no_results_yet = True
    return upload


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


def upload_image_visible(*, user: AbstractBaseUser, name: str) -> bool:
    """Whether `user` may see the stored upload image `name`: its owner, or staff who may view uploads.

    The owner's check goes through the owner index; only staff fall back to a lookup by name.
    """
    if not user.is_authenticated:
        return False
    if Upload.objects.filter(owner=user, image=name).exists():
        return True
    return user.has_perm("gallery.view_upload") and Upload.objects.filter(image=name).exists()
