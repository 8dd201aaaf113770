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
    # recommender.colour.lab_cell: search reads only the cells near the picked colours (indexed).
    cell = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["palette", "rank"], name="artwork_colour_unique_rank")]
        indexes = [models.Index(fields=["cell"], name="artwork_colour_cell")]

    def __str__(self) -> str:
        return f"Lab({self.l:.0f}, {self.a:.0f}, {self.b:.0f}) × {self.share:.2f}"


class MapLayout(models.Model):
    """A 2-D layout (t-SNE) of the catalogue's embeddings of one model version: the catalogue map.

    Rebuilt by `manage.py build_catalogue_map`; pages show the newest layout of the active version,
    so a model switch never shows a map computed from the other model's vectors.
    """

    model_version = models.CharField(max_length=100, db_index=True)
    method = models.CharField(max_length=50, help_text="Algorithm and library, e.g. openTSNE 1.0.4")
    params = models.JSONField(default=dict, blank=True)
    point_count = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0.0, help_text="Time the layout took to compute")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Map of {self.point_count} works ({self.model_version})"


class MapPoint(models.Model):
    """One catalogue work on a layout; x and y are scaled into 0..1 (the page maps them to pixels)."""

    layout = models.ForeignKey(MapLayout, on_delete=models.CASCADE, related_name="points")
    artwork = models.ForeignKey("gallery.Artwork", on_delete=models.CASCADE, related_name="+")
    x = models.FloatField()
    y = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["layout", "artwork"], name="map_point_unique_artwork")]

    def __str__(self) -> str:
        return f"{self.artwork_id} at ({self.x:.3f}, {self.y:.3f})"


class ArtworkFingerprint(models.Model):
    """A catalogue work's perceptual hash (pHash, 64 bits as 16 hex digits), for "already in the catalogue"."""

    artwork = models.OneToOneField(
        "gallery.Artwork", on_delete=models.CASCADE, primary_key=True, related_name="fingerprint"
    )
    phash = models.CharField(max_length=16)

    def __str__(self) -> str:
        return f"{self.artwork_id}: {self.phash}"


class PaintingSource(models.TextChoices):
    DETECTED = "detected", "Found in the photo"
    PERSON = "person", "Corners you set"
    WHOLE = "whole", "The whole photo, as you asked"
    NONE = "none", "The whole image (no frame found)"


class UploadInsight(models.Model):
    """What the analysis explains about an upload beside its style: palette, duplicate, heat map.

    Written by the worker's analyse step with the predictions (recommender.insights); deleted with
    the upload (the row by cascade, the heat-map file by gallery.services.upload_delete).
    """

    upload = models.OneToOneField("gallery.Upload", on_delete=models.CASCADE, primary_key=True, related_name="insight")
    palette = models.JSONField(default=list, blank=True)
    phash = models.CharField(max_length=16, blank=True)
    duplicate_of = models.ForeignKey(
        "gallery.Artwork",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The catalogue work this upload is a copy or photo of, if any",
    )
    duplicate_similarity = models.FloatField(null=True, blank=True)
    duplicate_hash_distance = models.PositiveSmallIntegerField(null=True, blank=True)
    heatmap = models.ImageField(upload_to="uploads/heatmaps/%Y/%m/", blank=True)
    heatmap_style = models.CharField(max_length=100, blank=True, help_text="The style the heat map explains")
    heatmap_ms = models.FloatField(null=True, blank=True, help_text="Extra time the heat map took")
    # Which part of the image was analysed (recommender.framing): the painting found in a wall photo,
    # the corners the person set, or the whole image.
    painting_source = models.CharField(max_length=10, choices=PaintingSource.choices, blank=True)
    painting_corners = models.JSONField(
        null=True, blank=True, help_text="[[x, y]] × 4, fractions of the image, clockwise from top-left"
    )
    painting_confidence = models.FloatField(null=True, blank=True)
    painting = models.ImageField(
        upload_to="uploads/paintings/%Y/%m/", blank=True, help_text="The straightened painting"
    )
    painting_ms = models.FloatField(null=True, blank=True, help_text="Time finding and straightening took")
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Insight of upload {self.upload_id}"
