"""Writes and reads of `Job` rows: the record of long background work that staff watch and retry.

A job is claimed with a conditional update (queued → running), so two workers that both receive its
message never run it twice; progress is written with `update()` (no read-modify-write races with
the page that reads it); a failure keeps a reason a curator can act on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from . import handover
from .models import Artwork, Job, Upload

# A running job whose worker died stops updating; after this long without progress the jobs page
# calls it stalled and offers a retry.
STALLED_AFTER = timedelta(minutes=10)


def job_create(*, kind: str, params: dict[str, Any] | None = None, user=None, total: int = 0) -> Job:
    """Create a queued job; a worker gets it once the surrounding transaction commits."""
    if kind not in Job.Kind.values:
        raise ValueError(f"unknown job kind {kind!r}")
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind, params=params or {}, created_by=user if user and user.is_authenticated else None, total=total
        )
        handover.job_queued(job_id=job.pk)
    return job


def job_claim(*, job_id: int) -> bool:
    """queued → running; False when another worker has it or it is finished (then do nothing).

    A running job that stopped updating for STALLED_AFTER is taken over: its worker died and the
    broker re-delivered the message (acks_late). Jobs report progress at least every batch, far
    more often than that.
    """
    now = timezone.now()
    claimable = Q(status=Job.Status.QUEUED) | Q(status=Job.Status.RUNNING, updated_at__lt=now - STALLED_AFTER)
    claimed = Job.objects.filter(claimable, pk=job_id).update(
        status=Job.Status.RUNNING, started_at=now, updated_at=now, attempts=F("attempts") + 1, error=""
    )
    return claimed == 1


def job_progress(*, job_id: int, progress: int | None = None, total: int | None = None, message: str = "") -> None:
    values: dict[str, Any] = {"updated_at": timezone.now()}
    if progress is not None:
        values["progress"] = progress
    if total is not None:
        values["total"] = total
    if message:
        values["message"] = message[:300]
    Job.objects.filter(pk=job_id).update(**values)


def job_advance(*, job_id: int, by: int) -> None:
    """Add `by` to the progress (batches report how many they finished)."""
    Job.objects.filter(pk=job_id).update(progress=F("progress") + by, updated_at=timezone.now())


def job_done(*, job_id: int, message: str = "") -> None:
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.DONE, finished_at=now, updated_at=now, message=message[:300], error=""
    )


def job_fail(*, job_id: int, reason: str) -> None:
    now = timezone.now()
    Job.objects.filter(pk=job_id).exclude(status=Job.Status.DONE).update(
        status=Job.Status.FAILED, finished_at=now, updated_at=now, error=reason[:2000]
    )


def job_retry(*, job_id: int) -> bool:
    """Put a failed (or stalled) job back in the queue; jobs resume from their stored state."""
    stalled_before = timezone.now() - STALLED_AFTER
    with transaction.atomic():
        requeued = Job.objects.filter(pk=job_id, status=Job.Status.FAILED).update(
            status=Job.Status.QUEUED, finished_at=None, updated_at=timezone.now()
        ) or Job.objects.filter(pk=job_id, status=Job.Status.RUNNING, updated_at__lt=stalled_before).update(
            status=Job.Status.QUEUED, updated_at=timezone.now()
        )
        if requeued:
            handover.job_queued(job_id=job_id)
    return bool(requeued)


# --- reads ------------------------------------------------------------------------------------


def jobs_active() -> QuerySet[Job]:
    return Job.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).order_by("created_at")


def jobs_failed_recent(*, limit: int = 20) -> QuerySet[Job]:
    return Job.objects.filter(status=Job.Status.FAILED).order_by("-finished_at")[:limit]


def jobs_finished_recent(*, limit: int = 10) -> QuerySet[Job]:
    return Job.objects.filter(status=Job.Status.DONE).order_by("-finished_at")[:limit]


def job_eta(job: Job) -> timedelta | None:
    """Time left at the rate so far; None until there is a rate to go by."""
    if job.status != Job.Status.RUNNING or not job.started_at or not job.total or job.progress <= 0:
        return None
    elapsed = (timezone.now() - job.started_at).total_seconds()
    remaining = max(job.total - job.progress, 0)
    return timedelta(seconds=round(elapsed / job.progress * remaining))


def job_is_stalled(job: Job) -> bool:
    return job.status == Job.Status.RUNNING and job.updated_at < timezone.now() - STALLED_AFTER


def artworks_embedding_failed(*, limit: int = 20) -> QuerySet:
    return Artwork.objects.exclude(embedding_error="").defer("embedding").order_by("-id")[:limit]


def uploads_failed_recent(*, limit: int = 10) -> QuerySet:
    return (
        Upload.objects.filter(status=Upload.Status.FAILED)
        .select_related("owner")
        .defer("embedding")
        .order_by("-finished_at")[:limit]
    )


def uploads_in_flight() -> dict[str, int]:
    return {
        "queued": Upload.objects.filter(status=Upload.Status.QUEUED).count(),
        "running": Upload.objects.filter(status=Upload.Status.RUNNING).count(),
    }
