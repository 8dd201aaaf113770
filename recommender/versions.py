"""Style-model versions: which one is active, and switching to another without downtime.

Storage layout (why): search needs one HNSW graph over exactly the active version's vectors.
`Artwork.embedding` holds the active version under the table's HNSW index, as before. A new
version is embedded *beside* it into `ArtworkEmbedding` (no vector index there: building costs
searches nothing and pays no graph inserts). When every artwork has its new vector, one
transaction copies them into `Artwork.embedding` and marks the version active; readers keep seeing
the old vectors (MVCC) until that commit, then all see the new ones. The replaced vectors move to
`ArtworkEmbedding`, so switching back is the same cheap job, until `prune_embeddings` drops them.

The alternative, every version in one table searched with `WHERE version = ...`, makes pgvector
filter *after* the HNSW scan (half the candidates discarded during a switch, recall drops unless
iterative scans are on) or needs one partial index per version created by DDL at run time.

Writers that store an active-version vector (the per-artwork task, `embed_catalogue`) hold a
shared advisory lock and re-check the active version; the switch holds it exclusively, so a vector
computed with the old model can never land after the flip.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from gallery import handover
from gallery.jobs import job_create
from gallery.models import Artwork, ArtworkEmbedding, Job, StyleModelVersion

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key: "active style version" (any constant unique to this purpose).
VERSION_LOCK_KEY = 0x5747_0001

_models_lock = threading.Lock()
_models: dict[str, object] = {}


class UnknownVersion(ValueError):
    """No artefact directory with that version exists on this host."""


# --- artefacts on disk --------------------------------------------------------------------------


def artifacts_root() -> Path:
    """The folder holding one sub-folder per trained version (settings.STYLE_MODEL_DIR)."""
    root = Path(settings.STYLE_MODEL_DIR)
    if (root / "model.keras").is_file():  # configured with one artefact directly
        return root.parent
    if root.name == "current":
        return root.parent
    return root


def _card_version(directory: Path) -> str:
    card = directory / "model_card.json"
    if card.is_file():
        try:
            return str(json.loads(card.read_text(encoding="utf-8")).get("version") or directory.name)
        except (ValueError, OSError):
            return directory.name
    return directory.name


def available_versions() -> dict[str, Path]:
    """Trained versions on this host: version → artefact directory."""
    root = artifacts_root()
    found: dict[str, Path] = {}
    if root.is_dir():
        for directory in sorted(p for p in root.iterdir() if (p / "model.keras").is_file()):
            found[_card_version(directory)] = directory
    return found


def artifact_dir_for(version: str) -> Path:
    versions = available_versions()
    if version in versions:
        return versions[version]
    raise UnknownVersion(
        f"no style model {version!r} under {artifacts_root()}; available: {', '.join(versions) or 'none'}"
    )


def default_version() -> str:
    """The version the configured artefact (CURRENT) names: the active one until a switch is recorded."""
    # heavy: recommender.ml imports numpy (this reads the model card only, no TensorFlow); the web
    # process imports this module.
    from .ml.style_model import get_style_model

    return get_style_model().version


# --- the active version -------------------------------------------------------------------------


def active_version() -> str:
    """The version search and the upload pipeline use now (one query; the database is the truth)."""
    row = StyleModelVersion.objects.filter(state=StyleModelVersion.State.ACTIVE).values_list("version", flat=True)
    return row.first() or default_version()


def version_pending() -> str | None:
    """The version being embedded for a switch, if any."""
    return (
        StyleModelVersion.objects.filter(state=StyleModelVersion.State.EMBEDDING)
        .values_list("version", flat=True)
        .first()
    )


def ensure_active_recorded() -> str:
    """Record the configured version as active when none is: training a new artefact (which moves
    CURRENT) must not silently change the model the catalogue's vectors came from."""
    with transaction.atomic():
        if not StyleModelVersion.objects.filter(state=StyleModelVersion.State.ACTIVE).exists():
            version = default_version()
            StyleModelVersion.objects.update_or_create(
                version=version,
                defaults={"state": StyleModelVersion.State.ACTIVE, "activated_at": timezone.now()},
            )
    return active_version()


def style_model_for(version: str):
    """The StyleModel of `version`, one instance per process and version (loaded lazily)."""
    from .ml.style_model import StyleModel, get_style_model  # heavy: numpy, as above

    configured = get_style_model()
    if configured.version == version:
        return configured  # also the model a test injected with set_style_model
    with _models_lock:
        if version not in _models:
            _models[version] = StyleModel(artifact_dir_for(version))
        return _models[version]


def active_style_model():
    """The model uploads are analysed with: the active version's."""
    return style_model_for(active_version())


def lock_shared() -> None:
    """Inside a transaction: block a switch until this transaction ends (writers of active vectors)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [VERSION_LOCK_KEY])


def _lock_exclusive() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [VERSION_LOCK_KEY])


# --- switching ----------------------------------------------------------------------------------


def version_activate(*, version: str, user=None) -> Job:
    """Start switching to `version`: embed the catalogue beside the active vectors, then flip.

    Raises UnknownVersion when no artefact has that version, ValueError when it is already active
    or another switch is running (one at a time keeps the story simple for curators).
    """
    artifact_dir_for(version)  # fail now, in the admin or the command, not later in a worker
    with transaction.atomic():
        ensure_active_recorded()
        if active_version() == version:
            raise ValueError(f"{version} is already the active style model")
        busy = StyleModelVersion.objects.filter(state=StyleModelVersion.State.EMBEDDING).exclude(version=version)
        if busy.exists():
            raise ValueError(f"a switch to {busy.first().version} is still running; wait for it or retry it")
        StyleModelVersion.objects.update_or_create(
            version=version, defaults={"state": StyleModelVersion.State.EMBEDDING}
        )
        return job_create(kind=Job.Kind.SWITCH, params={"version": version}, user=user, total=Artwork.objects.count())


def artworks_missing_version(version: str):
    """Artworks that have no staged vector of `version` yet (resumable: a retried job skips the rest)."""
    return Artwork.objects.exclude(staged_embeddings__version=version).order_by("id")


def version_switch(*, version: str) -> int:
    """The flip: one transaction makes `version` active for search and the pipeline.

    Returns how many artworks had no staged vector (added during the last moments): their old
    vector is cleared and they are queued for embedding with the new version after commit.
    """
    with transaction.atomic():
        _lock_exclusive()
        previous = active_version()
        if previous == version:
            return 0
        late = list(artworks_missing_version(version).values_list("id", flat=True))
        with connection.cursor() as cursor:
            # Keep the outgoing vectors (switching back is then a copy, not a re-embedding).
            cursor.execute(
                f"""
                INSERT INTO {ArtworkEmbedding._meta.db_table} (artwork_id, version, vector, created_at)
                SELECT id, embedding_version, embedding, now() FROM {Artwork._meta.db_table}
                WHERE embedding IS NOT NULL AND embedding_version <> ''
                ON CONFLICT (artwork_id, version) DO UPDATE SET vector = EXCLUDED.vector
                """
            )
            cursor.execute(
                f"""
                UPDATE {Artwork._meta.db_table} AS a
                SET embedding = e.vector, embedding_version = e.version, embedding_error = ''
                FROM {ArtworkEmbedding._meta.db_table} AS e
                WHERE e.artwork_id = a.id AND e.version = %s
                """,
                [version],
            )
        ArtworkEmbedding.objects.filter(version=version).delete()  # now in Artwork.embedding
        if late:
            Artwork.objects.filter(id__in=late).update(embedding=None, embedding_version="")
        now = timezone.now()
        StyleModelVersion.objects.filter(state=StyleModelVersion.State.ACTIVE).update(
            state=StyleModelVersion.State.RETIRED
        )
        StyleModelVersion.objects.update_or_create(
            version=version, defaults={"state": StyleModelVersion.State.ACTIVE, "activated_at": now}
        )
        for artwork_id in late:
            handover.artwork_needs_embedding(artwork_id=artwork_id)
    logger.info("style model switched %s -> %s (%s artworks embedded late)", previous, version, len(late))
    return len(late)


def vacuum_catalogue() -> None:
    """VACUUM ANALYZE the artwork table after a flip: it left one dead HNSW entry per work.

    Outside any transaction (VACUUM refuses to run in one); searches go on meanwhile. ~50 s for
    11,670 works on the loaded 2-core machine; autovacuum would get there too, later.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {Artwork._meta.db_table}")


def versions_prune(*, keep: tuple[str, ...] = ()) -> int:
    """Drop the staged vectors of every version that is neither active nor being built."""
    live = set(
        StyleModelVersion.objects.filter(
            state__in=[StyleModelVersion.State.ACTIVE, StyleModelVersion.State.EMBEDDING]
        ).values_list("version", flat=True)
    ) | set(keep)
    deleted, _ = ArtworkEmbedding.objects.exclude(version__in=live).delete()
    return deleted
