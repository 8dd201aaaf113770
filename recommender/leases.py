"""Leases on upload rows: who may run a step of an upload now, and the sweep of the ones nobody holds.

A step runs only while its worker holds a lease on the upload row: `upload_claim` is a conditional
update that succeeds when the upload is unfinished and its lease is free, expired, or already held
under the same token. The token is the Celery task id, which a message keeps when it is redelivered
(worker child killed, visibility timeout) or retried, so a redelivered task takes its own step back
at once, while a *different* message for the same upload (a sweep's re-queue, a duplicate) never
steals a live lease. Each step writes its results only if it still holds the lease
(`uploads_leased`: `select_for_update` on the token), so two workers never both finish the same
step. A lease lasts longer than the task's hard time limit (settings.UPLOAD_LEASE_S): it cannot
expire under a task that is still allowed to run.

**Sweep.** `uploads_requeue_stale` (run by Celery beat inside the worker, and when a worker starts)
sends again every unfinished upload that nobody holds a live lease on and that has not moved for a
while: a message lost with the broker, a worker killed between steps, a lease left by a dead host.

The steps themselves are in `recommender.pipeline`; `recommender.tasks` claims and calls them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from gallery.models import Upload

UNFINISHED = [Upload.Status.QUEUED, Upload.Status.RUNNING]
FINISHED = [Upload.Status.DONE, Upload.Status.FAILED]


def _lease_free(now) -> Q:
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)


def _leased(*, token: str, stage: str, progress: int, now) -> dict:
    """The fields a claim writes: running, at `stage`, held by `token` for settings.UPLOAD_LEASE_S."""
    return {
        "status": Upload.Status.RUNNING,
        "stage": stage,
        "progress": progress,
        "claim_token": token,
        "lease_expires_at": now + timedelta(seconds=settings.UPLOAD_LEASE_S),
        "updated_at": now,
    }


def upload_claim(*, upload_id: int, stage: str, progress: int, token: str) -> bool:
    """Take the lease on the upload for one step (`stage`); False when there is nothing to do now.

    Nothing to do: the upload is finished or gone, another token holds a live lease (that worker is
    running a step), `stage` is matching and the analysis has not stored an embedding yet, or `stage`
    is classifying and another message's batch already stored one (the chain goes on to matching).
    """
    if not token:
        raise ValueError("a claim needs a token (the task id)")
    now = timezone.now()
    rows = Upload.objects.filter(_lease_free(now) | Q(claim_token=token), pk=upload_id).exclude(status__in=FINISHED)
    if stage == Upload.Stage.MATCHING:
        rows = rows.filter(embedding__isnull=False)
    elif stage == Upload.Stage.CLASSIFYING:
        rows = rows.filter(Q(embedding__isnull=True) | Q(claim_token=token))
    claimed = rows.update(**_leased(token=token, stage=stage, progress=progress, now=now))
    return claimed == 1


def uploads_claim_matching(*, upload_ids: Collection[int], token: str) -> list[int]:
    """`upload_claim` of the match step for a batch the analysis just stored, in one transaction
    (a statement for the batch, not one per upload); returns the ids claimed."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Upload.objects.select_for_update(skip_locked=True)
            .filter(_lease_free(now) | Q(claim_token=token), pk__in=list(upload_ids), embedding__isnull=False)
            .exclude(status__in=FINISHED)
            .order_by("id")
            .values_list("id", flat=True)
        )
        Upload.objects.filter(pk__in=ids).update(
            **_leased(token=token, stage=Upload.Stage.MATCHING, progress=60, now=now)
        )
    return ids


def uploads_leased(upload_ids: Collection[int], token: str) -> dict[int, Upload]:
    """The uploads `token` still holds, locked for writing (call inside a transaction), in id order
    so two workers locking overlapping rows cannot deadlock, without their embeddings."""
    rows = (
        Upload.objects.select_for_update()
        .filter(pk__in=list(upload_ids), claim_token=token)
        .exclude(status__in=FINISHED)
        .defer("embedding")
        .order_by("pk")
    )
    return {upload.pk: upload for upload in rows}


def uploads_claim_waiting(*, token: str, limit: int, exclude: Collection[int] = ()) -> list[int]:
    """Take the analysis lease, under `token`, on up to `limit` uploads that wait for a worker (queued,
    lease free, no embedding), oldest first; returns their ids. Uploads this token already holds and
    has not analysed (its batch, when a killed worker child's message comes back) are taken again.
    Rows another transaction is claiming are skipped, so two workers collecting at once split the
    queue instead of waiting on each other."""
    if limit <= 0:
        return []
    now = timezone.now()
    waiting = (_lease_free(now) & Q(status=Upload.Status.QUEUED)) | Q(claim_token=token, status__in=UNFINISHED)
    with transaction.atomic():
        ids = list(
            Upload.objects.select_for_update(skip_locked=True)
            .filter(waiting, embedding__isnull=True)
            .exclude(pk__in=list(exclude))
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        Upload.objects.filter(pk__in=ids).update(
            **_leased(token=token, stage=Upload.Stage.CLASSIFYING, progress=10, now=now)
        )
    return ids


def uploads_release(*, upload_ids: Collection[int], token: str) -> int:
    """Give back the leases `token` holds on these unfinished uploads (their own messages take them)."""
    return (
        Upload.objects.filter(pk__in=list(upload_ids), claim_token=token)
        .exclude(status__in=FINISHED)
        .update(claim_token="", lease_expires_at=None, updated_at=timezone.now())
    )


def upload_fail(*, upload_id: int, reason: str, token: str = "") -> bool:
    """Mark the upload failed with a reason for people, unless it is done or another worker holds it.

    Returns whether the row changed.
    """
    now = timezone.now()
    holder = _lease_free(now) | Q(claim_token=token) if token else _lease_free(now)
    changed = (
        Upload.objects.filter(holder, pk=upload_id)
        .exclude(status=Upload.Status.DONE)
        .update(
            status=Upload.Status.FAILED,
            stage=Upload.Stage.FAILED,
            error=reason[:1000],
            finished_at=now,
            claim_token="",
            lease_expires_at=None,
            updated_at=now,
        )
    )
    return changed == 1


def uploads_requeue_stale(*, enqueue: Callable[[int], None], older_than_s: int | None = None) -> int:
    """Send again every unfinished upload with no live lease that has not moved for `older_than_s`.

    `enqueue(upload_id)` sends the pipeline (recommender.tasks passes its own; taking it as an
    argument keeps this module free of Celery). The rows are touched first, so the next sweep leaves
    them alone for another `older_than_s` while the new message waits in the queue. The steps are
    idempotent and leased, so a duplicate message is harmless. Returns how many were sent.
    """
    older_than_s = settings.UPLOAD_REQUEUE_AFTER_S if older_than_s is None else older_than_s
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Upload.objects.select_for_update(skip_locked=True)  # two sweeps at once split the rows
            .filter(_lease_free(now), status__in=UNFINISHED, updated_at__lt=now - timedelta(seconds=older_than_s))
            .order_by("id")
            .values_list("id", flat=True)
        )
        Upload.objects.filter(pk__in=ids).update(updated_at=now)
    for upload_id in ids:
        enqueue(upload_id)
    return len(ids)
