"""Reads of the catalogue map for pages and the API (web-safe: SQL and pgvector, no numpy).

The map's data is the same for every visitor until the layout is rebuilt, so it is serialised once
per layout into compact parallel arrays (ids, x, y, style, title, painter index, year, image) and
kept in the cache; a request then costs one cache read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.urls import reverse

from gallery.models import Style

from . import versions
from .models import MapLayout, MapPoint
from .search import nearest_artworks

CACHE_SECONDS = 24 * 3600
# An upload is placed among its closest works that lie together on the map (see upload_position).
PLACE_NEIGHBOURS = 10
PLACE_RADIUS = 0.03


def map_layout_current() -> MapLayout | None:
    """The newest layout of the active model version, or None when none was built."""
    return MapLayout.objects.filter(model_version=versions.active_version()).first()


def map_payload_json(layout: MapLayout) -> bytes:
    """The layout as compact JSON (parallel arrays), built once per layout and cached."""
    key = f"catalogue-map:{layout.pk}:{layout.created_at.timestamp()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    rows = list(
        MapPoint.objects.filter(layout=layout)
        .order_by("artwork_id")
        .values_list(
            "artwork_id",
            "x",
            "y",
            "artwork__style_id",
            "artwork__title",
            "artwork__artist__name",
            "artwork__year",
            "artwork__image",
        )
    )
    styles = list(Style.objects.order_by("name").values_list("id", "name", "slug"))
    style_index = {style_id: i for i, (style_id, _, _) in enumerate(styles)}
    painters: dict[str, int] = {}
    payload = {
        "layout": {
            "id": layout.pk,
            "model_version": layout.model_version,
            "method": layout.method,
            "point_count": layout.point_count,
            "created_at": layout.created_at.isoformat(),
        },
        "styles": [{"id": sid, "name": name, "slug": slug} for sid, name, slug in styles],
        "painters": [],
        "artwork_url": reverse("gallery:artwork_detail", args=[0]).replace("/0/", "/{id}/"),
        "points": {
            "id": [r[0] for r in rows],
            # 4 decimals: 1/10,000 of the map's side, finer than a pixel at the deepest zoom the page allows.
            "x": [round(r[1], 4) for r in rows],
            "y": [round(r[2], 4) for r in rows],
            "style": [style_index.get(r[3], -1) for r in rows],
            "title": [r[4] or "Untitled" for r in rows],
            "painter": [painters.setdefault(r[5], len(painters)) if r[5] else -1 for r in rows],
            "year": [r[6] for r in rows],
            "image": [default_storage.url(r[7]) if r[7] else "" for r in rows],
        },
    }
    payload["painters"] = list(painters)
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    cache.set(key, data, CACHE_SECONDS)
    return data


@dataclass(frozen=True)
class MapPosition:
    x: float
    y: float
    neighbour_ids: list[int]  # the works it was placed among, closest first


def upload_position(*, embedding, layout: MapLayout) -> MapPosition | None:
    """Where an image with this embedding falls on the map: among its nearest catalogue works.

    t-SNE has no exact transform for new points, so the upload is placed like its neighbours: at
    the similarity-weighted centre of those of its 10 nearest works that lie within 0.03 of the
    nearest one on the map (averaging neighbours from two far-apart clusters would put it in the
    empty space between them). None when no neighbour is on this layout.
    """
    if embedding is None:
        return None
    neighbours = nearest_artworks(embedding, k=PLACE_NEIGHBOURS)
    points = {
        artwork_id: (x, y)
        for artwork_id, x, y in MapPoint.objects.filter(
            layout=layout, artwork_id__in=[n.artwork.pk for n in neighbours]
        ).values_list("artwork_id", "x", "y")
    }
    placed = [(n, points[n.artwork.pk]) for n in neighbours if n.artwork.pk in points]
    if not placed:
        return None
    ax, ay = placed[0][1]
    together = [(n, (x, y)) for n, (x, y) in placed if (x - ax) ** 2 + (y - ay) ** 2 <= PLACE_RADIUS**2]
    weights = [max(n.similarity, 1e-6) ** 2 for n, _ in together]
    total = sum(weights)
    x = sum(w * p[0] for w, (_, p) in zip(weights, together, strict=True)) / total
    y = sum(w * p[1] for w, (_, p) in zip(weights, together, strict=True)) / total
    return MapPosition(x=round(x, 4), y=round(y, 4), neighbour_ids=[n.artwork.pk for n, _ in together])
