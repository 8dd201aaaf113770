"""Palette search: catalogue works whose stored palettes hold the colours a person picked (reads only).

Web-safe (pure Python and one SQL query; no numpy). The score of a work, between 0 and 1, is the
mean over the picked colours of how well its best-matching palette colour fits:

    fit(q, c) = exp(-ΔE(q, c)² / (2 · 15²)) × (0.5 + 0.5 · min(1, share(c) / 0.2))

ΔE is the CIE76 distance in Lab (≈ 2.3 is just noticeable, 15 is "clearly the same family"); the
share term prefers works where the colour covers a fifth of the canvas or more over works where it
is a speck. Colours farther than ΔE 30 (weight < 0.14) count as no fit: each picked colour reads
only the palette colours in the grid cells within that distance (recommender.colour.cells_within,
an index scan), not the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from gallery.models import Artwork

from .colour import Lab, cells_within, colour_name, hex_to_lab, hex_to_rgb, rgb_to_hex, rgb_to_lab
from .models import ArtworkPalette

MAX_COLOURS = 3
SIGMA = 15.0
CUTOFF = 30.0
FULL_SHARE = 0.2

# One branch per picked colour (at most three), each reading only the palette colours in the grid
# cells within CUTOFF of it (an index scan on `cell`); then the best fit per work and colour, and
# the mean over the picked colours.
_BRANCH = f"""
    SELECT c.palette_id AS artwork_id, {{i}} AS i,
           max(exp(-d2 / {2 * SIGMA**2}) * (0.5 + 0.5 * least(1.0, c.share / {FULL_SHARE}))) AS fit
    FROM recommender_artworkcolour c
    CROSS JOIN LATERAL (SELECT (c.l - %s) ^ 2 + (c.a - %s) ^ 2 + (c.b - %s) ^ 2 AS d2) AS dist
    WHERE c.cell = ANY(%s) AND d2 < {CUTOFF**2}
    GROUP BY c.palette_id
"""
_SQL = """
SELECT artwork_id, sum(fit) / %s AS score
FROM ({branches}) AS best
GROUP BY artwork_id
ORDER BY score DESC, artwork_id
LIMIT %s
"""


@dataclass(frozen=True)
class PickedColour:
    hex: str
    name: str
    lab: Lab


def parse_colours(values: list[str]) -> list[PickedColour]:
    """Validate 1..MAX_COLOURS hex colours ('#c48f2c'); ValueError with a message a person can act on."""
    cleaned = [value.strip() for value in values if value and value.strip()]
    if not cleaned:
        raise ValueError("Pick at least one colour.")
    if len(cleaned) > MAX_COLOURS:
        raise ValueError(f"Pick at most {MAX_COLOURS} colours.")
    picked = []
    for value in cleaned:
        rgb = hex_to_rgb(value)  # raises ValueError naming the bad value
        lab = rgb_to_lab(rgb)
        picked.append(PickedColour(hex=rgb_to_hex(rgb), name=colour_name(lab), lab=lab))
    return picked


def artworks_by_palette(*, colours: list[PickedColour], limit: int = 24) -> list[tuple[Artwork, float]]:
    """Catalogue works ranked by how well their palettes hold all the picked colours, best first.

    Two queries whatever `limit` is: the scores in SQL, then the works with painter, style and palette.
    """
    if not colours:
        return []
    branches, params = [], []
    for i, colour in enumerate(colours):
        branches.append(_BRANCH.format(i=i))
        params += [colour.lab.l, colour.lab.a, colour.lab.b, cells_within(colour.lab, CUTOFF)]
    with connection.cursor() as cursor:
        cursor.execute(_SQL.format(branches=" UNION ALL ".join(branches)), [len(colours), *params, limit])
        scored = cursor.fetchall()
    works = (
        Artwork.objects.select_related("artist", "style", "palette")
        .defer("embedding")
        .in_bulk([row[0] for row in scored])
    )
    return [(works[artwork_id], float(score)) for artwork_id, score in scored if artwork_id in works]


def catalogue_has_palettes() -> bool:
    return ArtworkPalette.objects.exists()


def artwork_palette(*, artwork_id: int):
    """The stored palette of one work (recommender.models.ArtworkPalette), or None."""
    return ArtworkPalette.objects.filter(artwork_id=artwork_id).first()


__all__ = [
    "MAX_COLOURS",
    "PickedColour",
    "artwork_palette",
    "artworks_by_palette",
    "catalogue_has_palettes",
    "colour_name",
    "hex_to_lab",
    "parse_colours",
]
