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
    # Why the last embedding attempt failed (unreadable image, ...); cleared when one succeeds. The
    # state a curator sees (embedded / pending / failed) is derived from this and the version.
    embedding_error = models.CharField(max_length=500, blank=True)
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
    # Where the painting is in the image, as the person set it (gallery.corners): four [x, y] corners
    # as fractions of the stored image, clockwise from top-left; [] for "use the whole photo"; None
    # (the default) lets the worker find it (recommender.framing).
    corners_requested = models.JSONField(null=True, blank=True)
    # The lease of the pipeline step running now (recommender.pipeline.upload_claim): the holder's
    # Celery task id and when the lease runs out. Empty/None between steps and once finished.
    claim_token = models.CharField(max_length=64, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="upload_owner_recent"),
            # The sweep looks only at unfinished uploads: a small partial index, however long the history.
            models.Index(
                fields=["updated_at"],
                name="upload_unfinished_updated",
                condition=models.Q(status__in=["queued", "running"]),
            ),
        ]

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


class Job(models.Model):
    """A long piece of background work staff can watch: a catalogue import, a re-embedding, a switch.

    Workers update `progress`/`total` as they go; the jobs page derives the ETA from the rate so far.
    The row, not Celery, is the record: it survives worker restarts and is what a retry re-runs.
    """

    class Kind(models.TextChoices):
        IMPORT = "import", "Catalogue import (zip)"
        EMBED = "embed", "Embed missing artworks"
        SWITCH = "switch", "Switch the style model version"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    params = models.JSONField(default=dict, blank=True, help_text="What the job works on (file, version, ...)")
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True, help_text="The current phase, or the outcome")
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="job_status_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.progress / self.total)) if self.total else 0


class StyleModelVersion(models.Model):
    """A style-model artefact known to the site; exactly one is active (search and uploads use it).

    The database, not a file on one host, says which version is active, so every web and worker
    host flips together.
    """

    class State(models.TextChoices):
        EMBEDDING = "embedding", "Embedding the catalogue"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    version = models.CharField(max_length=100, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.EMBEDDING)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-activated_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["state"], condition=models.Q(state="active"), name="style_model_one_active")
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.state})"


class ArtworkEmbedding(models.Model):
    """Catalogue embeddings of a version that is not the active one (being built, or kept after a switch).

    `Artwork.embedding` always holds the active version, under the one HNSW index search uses; this
    table has no vector index, so building a new version costs searches nothing and a switch copies
    the vectors over in one transaction (see recommender/versions.py).
    """

    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="staged_embeddings")
    version = models.CharField(max_length=100)
    vector = VectorField(dimensions=EMBEDDING_DIM)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["artwork", "version"], name="artwork_embedding_unique_version")]
        indexes = [models.Index(fields=["version"], name="artwork_embedding_by_version")]

    def __str__(self) -> str:
        return f"{self.artwork_id} @ {self.version}"
