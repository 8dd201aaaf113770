"""Celery tasks of the living catalogue: embed one artwork, and run a `Job` (import, embed, switch).

Small tasks that take ids and call services (recommender.embeddings, recommender.versions,
gallery.jobs). A job is claimed with a conditional update, so a duplicate message (acks_late after a
worker died) finds it running or done and does nothing; every job resumes from stored state, so a
retry after a crash redoes no finished work. Listed in CELERY_IMPORTS so every worker registers them.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from celery import Task, shared_task
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerError

from artsite import metrics
from gallery import jobs
from gallery.models import Artwork, Job
from gallery.services import catalogue_import

from . import versions
from .graph import GraphUnavailable
from .influence_graph import graph_sync

logger = logging.getLogger(__name__)
# Every worker imports this module (CELERY_IMPORTS): the place to time all of its tasks.
metrics.connect_task_signals()

TRANSIENT = (OperationalError, InterfaceError, BrokerError, ConnectionError, TimeoutError)
# A catalogue zip is unpacked on the worker's disk: refuse archives that would fill it.
ZIP_MAX_MEMBERS = 200_000
ZIP_MAX_UNPACKED_BYTES = 20 * 1024**3
# Whole-catalogue jobs run for minutes: the default task limits (5 min) are for uploads.
JOB_TIME_LIMIT = 6 * 3600


class ImportRejected(ValueError):
    """The uploaded archive is not a catalogue folder we can import (the reason says why)."""


def embed_artwork_later(*, artwork_id: int) -> None:
    """Queue the embedding of one artwork when the current transaction commits (the handler of
    gallery.handover.artwork_needs_embedding).

    A broker outage at that moment is logged, not raised: the row is saved and stays "pending",
    which the admin shows and the "embed now" action or `embed_catalogue` repairs.
    """

    def send() -> None:
        try:
            embed_artwork.delay(artwork_id)
        except BrokerError:
            logger.exception("could not queue the embedding of artwork %s; it stays pending", artwork_id)

    transaction.on_commit(send)


def job_queued(*, job_id: int) -> None:
    """The handler of gallery.handover.job_queued: send the job once its row is committed."""
    transaction.on_commit(lambda: enqueue_job(job_id))


def enqueue_job(job_id: int) -> None:
    try:
        run_job.delay(job_id)
    except BrokerError:
        logger.exception("could not queue job %s; it stays queued (retry it from the jobs page)", job_id)


@shared_task(bind=True, acks_late=True, autoretry_for=TRANSIENT, retry_backoff=2, max_retries=5)
def embed_artwork(self: Task, artwork_id: int) -> str:
    from .embeddings import VersionChanged, artwork_embed  # heavy: numpy; the web process imports this module

    try:
        return artwork_embed(artwork_id=artwork_id)
    except Artwork.DoesNotExist:
        return "deleted"
    except VersionChanged as exc:  # the switch committed mid-way: again, with the new active model
        raise self.retry(exc=exc, countdown=0) from exc


class JobTask(Task):
    acks_late = True
    time_limit = JOB_TIME_LIMIT
    soft_time_limit = JOB_TIME_LIMIT - 60

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        logger.error("job %s failed: %r", args[0] if args else "?", exc)
        if args:
            jobs.job_fail(job_id=args[0], reason=_reason(exc))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ImportRejected | ValueError | FileNotFoundError):
        return str(exc)
    if isinstance(exc, TRANSIENT):
        return f"A service was unavailable ({exc.__class__.__name__}). Retry when it is back."
    return f"{exc.__class__.__name__}: {exc}"


@shared_task(base=JobTask, bind=True)
def run_job(self: Task, job_id: int) -> str:
    if not jobs.job_claim(job_id=job_id):
        return "skipped"  # running elsewhere, or already finished
    job = Job.objects.get(pk=job_id)
    handler = {Job.Kind.IMPORT: _run_import, Job.Kind.EMBED: _run_embed, Job.Kind.SWITCH: _run_switch}[job.kind]
    message = handler(job)
    jobs.job_done(job_id=job_id, message=message)
    return message


def _run_embed(job: Job) -> str:
    from .embeddings import artworks_needing_embedding, catalogue_embed  # heavy: numpy, as above

    model = versions.active_style_model()
    todo = artworks_needing_embedding(model.version).count()
    jobs.job_progress(job_id=job.pk, progress=0, total=todo, message=f"embedding with {model.version}")
    report = catalogue_embed(model=model, progress=lambda n: jobs.job_advance(job_id=job.pk, by=n))
    return f"{report.embedded} embedded, {len(report.failed)} failed ({model.version})"


def _run_switch(job: Job) -> str:
    from .embeddings import catalogue_stage  # heavy: numpy, as above

    version = job.params["version"]
    model = versions.style_model_for(version)
    done = Artwork.objects.count() - versions.artworks_missing_version(version).count()
    jobs.job_progress(
        job_id=job.pk, progress=done, total=Artwork.objects.count(), message="embedding beside the active model"
    )
    report = catalogue_stage(model=model, progress=lambda n: jobs.job_advance(job_id=job.pk, by=n))
    jobs.job_progress(job_id=job.pk, message="switching search and uploads")
    late = versions.version_switch(version=version)
    jobs.job_progress(job_id=job.pk, message="cleaning up the search index (VACUUM)")
    versions.vacuum_catalogue()
    return (
        f"active: {version}; {report.embedded} embedded in {report.seconds:.0f} s, "
        f"{len(report.failed)} unreadable, {late} queued after the switch"
    )


class _Progress:
    """Progress callback that writes every `every` steps: the importer reports row by row."""

    def __init__(self, job_id: int, every: int = 100) -> None:
        self.job_id, self.every, self.pending = job_id, every, 0

    def __call__(self, n: int) -> None:
        self.pending += n
        if self.pending >= self.every:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            jobs.job_advance(job_id=self.job_id, by=self.pending)
            self.pending = 0


def _safe_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    if len(members) > ZIP_MAX_MEMBERS:
        raise ImportRejected(f"the archive has {len(members)} files; at most {ZIP_MAX_MEMBERS} are accepted")
    if sum(m.file_size for m in members) > ZIP_MAX_UNPACKED_BYTES:
        raise ImportRejected("the archive unpacks to more than 20 GB")
    for member in members:
        path = PurePosixPath(member.filename)
        if path.is_absolute() or ".." in path.parts:
            raise ImportRejected(f"unsafe path in the archive: {member.filename!r}")
    return members


def _catalogue_root(directory: Path) -> Path:
    """The folder holding catalogue.csv: the archive's top level or its single sub-folder."""
    if (directory / "catalogue.csv").is_file():
        return directory
    found = [p.parent for p in directory.glob("*/catalogue.csv")]
    if len(found) == 1:
        return found[0]
    raise ImportRejected("no catalogue.csv at the top of the archive (expected catalogue.csv, images/, ...)")


def _graph_sync_error() -> str:
    """Mirror the imported painters into Neo4j; why not, or "" when done. The relational import
    stands on its own: `manage.py sync_influence_graph` rebuilds the graph later."""
    try:
        graph_sync()
    except GraphUnavailable as exc:
        return str(exc) or exc.__class__.__name__
    return ""


def _run_import(job: Job) -> str:
    name = job.params["file"]
    workdir = Path(tempfile.mkdtemp(prefix="artsite-import-"))
    try:
        jobs.job_progress(job_id=job.pk, message="unpacking the archive")
        # Through the storage API: the web host that received the zip may not share a disk with us.
        with default_storage.open(name, "rb") as handle, zipfile.ZipFile(handle) as archive:
            archive.extractall(workdir, members=_safe_members(archive))
        root = _catalogue_root(workdir)
        with (root / "catalogue.csv").open(encoding="utf-8") as handle:
            rows = max(sum(1 for _ in handle) - 1, 0)
        jobs.job_progress(job_id=job.pk, progress=0, total=rows, message=f"importing {rows} rows")
        counter = _Progress(job.pk)
        report = catalogue_import(directory=root, progress=counter)
        counter.flush()
        jobs.job_progress(job_id=job.pk, message="updating the influence graph")
        graph_error = _graph_sync_error()
    except zipfile.BadZipFile as exc:
        raise ImportRejected("the file is not a zip archive") from exc
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    default_storage.delete(name)
    if report.created:
        # The new works are embedded by a job of their own, so this one reports the import alone.
        jobs.job_create(kind=Job.Kind.EMBED, params={"after_import": job.pk}, user=job.created_by)
    rejected = "; ".join(f"{row}: {why}" for row, why in report.rejected[:5])
    graph = f"; graph not synced ({graph_error})" if graph_error else ""
    return (
        f"{report.created} created, {report.updated} updated, {len(report.rejected)} rejected"
        f"{' (' + rejected + ')' if rejected else ''}{graph}"
    )
