"""Reads for "how is X connected to Y": the shortest influence path between two painters, with a work of each.

The path comes from Neo4j (recommender.graph, either edge direction, bounded); the painters and one
work of each come from PostgreSQL in two queries, whatever the path's length.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from gallery.models import Artist, Artwork

from . import graph

# Paths longer than this say little ("everyone is six steps from everyone") and cost more to find.
DEFAULT_MAX_HOPS = 6
MAX_HOPS_LIMIT = 10


class PathInputError(ValueError):
    """The request cannot be answered as asked (same painter twice, hops out of range)."""


@dataclass(frozen=True)
class PathStep:
    artist: Artist
    artwork: Artwork | None  # one work of the painter, None when the catalogue holds none
    # How this painter relates to the next one on the path: "influenced by", "influenced", or "" for the last.
    relation: str
    next_artist: Artist | None  # the next painter on the path, None for the last


@dataclass(frozen=True)
class PainterPath:
    source: Artist
    target: Artist
    max_hops: int
    steps: list[PathStep]  # empty when no path joins them within max_hops

    @property
    def found(self) -> bool:
        return bool(self.steps)

    @property
    def length(self) -> int:
        return max(len(self.steps) - 1, 0)


def _one_work_each(artist_ids: list[int]) -> dict[int, Artwork]:
    """A representative work per painter: the earliest dated one (then the first imported), in one query."""
    works = (
        Artwork.objects.filter(artist_id__in=artist_ids)
        .select_related("style")
        .defer("embedding")
        .order_by("artist_id", "year", "id")
        .distinct("artist_id")
    )
    return {work.artist_id: work for work in works}


def painter_path(*, source: Artist, target: Artist, max_hops: int = DEFAULT_MAX_HOPS) -> PainterPath:
    """The shortest influence path from `source` to `target` within `max_hops` steps, with a work of each painter.

    Raises PathInputError for the same painter twice or hops outside 1..MAX_HOPS_LIMIT, and
    graph.GraphUnavailable errors when Neo4j cannot be reached (callers say so; nothing is guessed).
    """
    if source.pk == target.pk:
        raise PathInputError("Choose two different painters.")
    if not 1 <= max_hops <= MAX_HOPS_LIMIT:
        raise PathInputError(f"The number of steps must be between 1 and {MAX_HOPS_LIMIT}.")
    found = graph.influence_path_between(source.slug, target.slug, max_hops)
    if found is None:
        return PainterPath(source=source, target=target, max_hops=max_hops, steps=[])
    keys, path = found
    artists = {artist.slug: artist for artist in Artist.objects.filter(slug__in=keys)}
    if len(artists) != len(set(keys)):
        # The graph mirrors PostgreSQL; a painter deleted since the last sync leaves a gap we will not show.
        return PainterPath(source=source, target=target, max_hops=max_hops, steps=[])
    works = _one_work_each([artist.pk for artist in artists.values()])
    relations = ["influenced by" if forward else "influenced" for forward in path.steps] + [""]
    nexts = [artists[key] for key in keys[1:]] + [None]
    steps = [
        PathStep(artist=artists[key], artwork=works.get(artists[key].pk), relation=relation, next_artist=after)
        for key, relation, after in zip(keys, relations, nexts, strict=True)
    ]
    return PainterPath(source=source, target=target, max_hops=max_hops, steps=steps)


def painters_for_path_choice():
    """Painters with at least one influence link, by name: the choices offered by the path search."""
    return (
        Artist.objects.annotate(
            links=Count("influences_received", distinct=True) + Count("influences_given", distinct=True)
        )
        .filter(links__gt=0)
        .only("name", "slug")
        .order_by("name")
    )
