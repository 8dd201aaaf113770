"""The catalogue (styles, painters, paintings, influences) and users' uploads with their results."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from pgvector.django import HnswIndex, VectorField

EMBEDDING_DIM = 1280


class Style(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("gallery:artwork_list") + f"?style={self.slug}"


class Genre(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Artist(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    birth_year = models.IntegerField(null=True, blank=True)
    death_year = models.IntegerField(null=True, blank=True)
    nationality = models.CharField(max_length=200, blank=True, help_text="';'-separated when several")
    movements = models.CharField(max_length=500, blank=True, help_text="';'-separated movements and styles")
    influenced_by = models.ManyToManyField(
        "self", through="Influence", symmetrical=False, related_name="influenced", blank=True
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("gallery:artist_detail", args=[self.slug])

    @property
    def lifespan(self) -> str:
        if self.birth_year is None and self.death_year is None:
            return ""
        return f"{self.birth_year or '?'}–{self.death_year or ''}"


class Influence(models.Model):
    """`artist` was influenced by `influencer` (Monet → Boudin). Mirrored into Neo4j."""

    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="influences_received")
    influencer = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="influences_given")
    source = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["artist", "influencer"], name="influence_unique_pair"),
            models.CheckConstraint(condition=~models.Q(artist=models.F("influencer")), name="influence_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.artist} ← {self.influencer}"


class Artwork(models.Model):
    source_id = models.CharField(max_length=50, unique=True, help_text="Stable id in the imported catalogue")
    title = models.CharField(max_length=300, blank=True)
    artist = models.ForeignKey(Artist, on_delete=models.SET_NULL, null=True, blank=True, related_name="artworks")
    style = models.ForeignKey(Style, on_delete=models.PROTECT, related_name="artworks")
    genre = models.ForeignKey(Genre, on_delete=models.SET_NULL, null=True, blank=True, related_name="artworks")
    year = models.IntegerField(null=True, blank=True)
    image = models.ImageField(upload_to="artworks/")
    source = models.CharField(max_length=500, blank=True)
    embedding = VectorField(dimensions=EMBEDDING_DIM, null=True, blank=True)
    embedding_version = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            HnswIndex(
                name="artwork_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            models.Index(fields=["embedding_version"], name="artwork_embedding_version"),
        ]

    def __str__(self) -> str:
        return self.display_title

    def get_absolute_url(self) -> str:
        return reverse("gallery:artwork_detail", args=[self.pk])

    @property
    def display_title(self) -> str:
        return self.title or "Untitled"


class Upload(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Stage(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        CLASSIFYING = "classifying", "Classifying the style"
        MATCHING = "matching", "Finding similar works"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    image = models.ImageField(upload_to="uploads/%Y/%m/")
    original_filename = models.CharField(max_length=255, blank=True)
    source_url = models.URLField(max_length=2000, blank=True)
    artist_hint = models.CharField(max_length=200, blank=True, help_text="Painter the user named, if any")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    model_version = models.CharField(max_length=100, blank=True)
    embedding = VectorField(dimensions=EMBEDDING_DIM, null=True, blank=True)
    query_artist = models.ForeignKey(
        Artist,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Painter used for influence re-ranking (named or inferred)",
    )
    influence_skipped = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="upload_owner_recent")]

    def __str__(self) -> str:
        return f"Upload {self.pk} by {self.owner_id} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("gallery:upload_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}


class Prediction(models.Model):
    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="predictions")
    style = models.ForeignKey(Style, on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField()
    rank = models.PositiveSmallIntegerField()
    model_version = models.CharField(max_length=100)

    class Meta:
        ordering = ["upload", "rank"]
        constraints = [models.UniqueConstraint(fields=["upload", "style"], name="prediction_unique_style")]

    def __str__(self) -> str:
        return f"{self.style}: {self.probability:.2f}"


class Match(models.Model):
    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="matches")
    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    visual_score = models.FloatField()
    influence_score = models.FloatField(default=0.0)
    final_score = models.FloatField()
    influence_path = models.JSONField(default=list, blank=True, help_text="Painter names along the path used")

    class Meta:
        ordering = ["upload", "rank"]
        constraints = [models.UniqueConstraint(fields=["upload", "artwork"], name="match_unique_artwork")]

    def __str__(self) -> str:
        return f"#{self.rank} {self.artwork_id} ({self.final_score:.3f})"
