"""Derived data about catalogue works and uploads, computed by workers and commands, read by pages.

Kept in the recommender app (not gallery.models): these rows are recomputable from the images and
the model, and the features that own them (palettes, the catalogue map) can change without
touching the catalogue's own schema.
"""

from __future__ import annotations

from django.db import models


class ArtworkPalette(models.Model):
    """The dominant colours of one catalogue work (recommender.palette), or why they could not be computed."""

    artwork = models.OneToOneField(
        "gallery.Artwork", on_delete=models.CASCADE, primary_key=True, related_name="palette"
    )
    # [{"hex", "name", "share", "l", "a", "b"}, ...], largest share first: what pages and the API show.
    colours = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, help_text="Why no palette was computed (unreadable image)")
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Palette of artwork {self.artwork_id}"


class ArtworkColour(models.Model):
    """One colour of a palette, as a row so palette search is one SQL query over Lab values."""

    palette = models.ForeignKey(ArtworkPalette, on_delete=models.CASCADE, related_name="rows")
    rank = models.PositiveSmallIntegerField()
    l = models.FloatField()  # noqa: E741 - L*, the CIE name
    a = models.FloatField()
    b = models.FloatField()
    share = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["palette", "rank"], name="artwork_colour_unique_rank")]

    def __str__(self) -> str:
        return f"Lab({self.l:.0f}, {self.a:.0f}, {self.b:.0f}) × {self.share:.2f}"
