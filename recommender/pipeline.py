"""The upload pipeline's writes: claim a step, analyse (classify + embed), match, fail, sweep stale claims.

`recommender.tasks` calls these; pages and the API only read the rows they leave behind.

**Leases.** A step runs only while its worker holds a lease on the upload row: `upload_claim` is a
conditional update that succeeds when the upload is unfinished and its lease is free, expired, or
already held under the same token. The token is the Celery task id, which a message keeps when it
is redelivered (worker child killed, visibility timeout) or retried, so a redelivered task takes its
own step back at once, while a *different* message for the same upload (a sweep's re-queue, a
duplicate) never steals a live lease. Each step writes its results only if it still holds the lease
(`select_for_update` on the token), so two workers never both finish the same step. A lease lasts
longer than the task's hard time limit (settings.UPLOAD_LEASE_S): it cannot expire under a task that
is still allowed to run.

**Sweep.** `uploads_requeue_stale` (run by Celery beat inside the worker, and when a worker starts)
sends again every unfinished upload that nobody holds a live lease on and that has not moved for a
while: a message lost with the broker, a worker killed between steps, a lease left by a dead host.

TensorFlow is imported inside `upload_analyse` only, so importing this module (as `gallery.services`
does through `recommender.tasks`) never loads it, nor numpy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from gallery.models import Match, Prediction, Style, Upload
from gallery.selectors import artist_from_hint
from recommender import insights
from recommender.ranking import similar_works

logger = logging.getLogger(__name__)

RESULT_COUNT = 10
TOP_STYLES_KEPT = 13  # every class's probability is kept; pages show the top few
UNFINISHED = [Upload.Status.QUEUED, Upload.Status.RUNNING]
FINISHED = [Upload.Status.DONE, Upload.Status.FAILED]


def _lease_free(now) -> Q:
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)


def upload_claim(*, upload_id: int, stage: str, progress: int, token: str) -> bool:
    """Take the lease on the upload for one step (`stage`); False when there is nothing to do now.

    Nothing to do: the upload is finished or gone, another token holds a live lease (that worker is
    running a step), or `stage` is matching and the analysis has not stored an embedding yet.
    """
    if not token:
        raise ValueError("a claim needs a token (the task id)")
    now = timezone.now()
    rows = Upload.objects.filter(_lease_free(now) | Q(claim_token=token), pk=upload_id).exclude(status__in=FINISHED)
    if stage == Upload.Stage.MATCHING:
        rows = rows.filter(embedding__isnull=False)
    claimed = rows.update(
        status=Upload.Status.RUNNING,
        stage=stage,
        progress=progress,
        claim_token=token,
        lease_expires_at=now + timedelta(seconds=settings.UPLOAD_LEASE_S),
        updated_at=now,
    )
    return claimed == 1


def _leased(upload_id: int, token: str) -> Upload | None:
    """The upload locked for writing, if `token` still holds its lease (call inside a transaction)."""
    upload = Upload.objects.select_for_update().filter(pk=upload_id, claim_token=token).exclude(status__in=FINISHED)
    return upload.first()


def upload_analyse(*, upload_id: int, token: str) -> bool:
    """Classify the style and compute the embedding in one forward pass; replaces earlier results.

    Returns False (and writes nothing) when the lease was lost meanwhile.
    """
    from recommender.ml.preprocess import load_image
    from recommender.versions import active_style_model

    upload = Upload.objects.defer("embedding").get(pk=upload_id)
    # The active version (recorded in the database), so every worker host flips with a switch.
    model = active_style_model()
    with upload.image.open("rb") as handle:
        pixels = load_image(handle)
    probs, embeddings = model.predict_and_embed(pixels[None])
    row = [float(p) for p in probs[0]]
    order = sorted(range(len(row)), key=lambda i: -row[i])[:TOP_STYLES_KEPT]
    # Palette, "already in the catalogue" and the heat map of the top style, from what this step holds.
    insight = insights.upload_insight_compute(
        upload=upload, pixels=pixels, embedding=embeddings[0], class_index=order[0], model=model
    )
    styles = {s.name: s for s in Style.objects.filter(name__in=model.classes)}
    with transaction.atomic():
        upload = _leased(upload_id, token)
        if upload is None:
            logger.warning("upload %s: lease lost during analysis; another worker has the step", upload_id)
            return False
        Prediction.objects.filter(upload=upload).delete()  # idempotent re-run
        Prediction.objects.bulk_create(
            Prediction(
                upload=upload,
                style=styles[model.classes[i]],
                probability=row[i],
                rank=rank,
                model_version=model.version,
            )
            for rank, i in enumerate(order, start=1)
            if model.classes[i] in styles
        )
        upload.embedding = embeddings[0]
        upload.model_version = model.version
        upload.stage = Upload.Stage.MATCHING
        upload.progress = 60
        upload.claim_token, upload.lease_expires_at = "", None  # step done: the match step claims next
        upload.save(
            update_fields=[
                "embedding",
                "model_version",
                "stage",
                "progress",
                "claim_token",
                "lease_expires_at",
                "updated_at",
            ]
        )
        insights.upload_insight_store(upload=upload, result=insight)
    return True


def upload_match(*, upload_id: int, token: str) -> bool:
    """Find similar catalogue works (influence-aware) and finish the upload; replaces earlier matches.

    Returns False (and writes nothing) when the lease was lost meanwhile.
    """
    upload = Upload.objects.get(pk=upload_id)
    if upload.embedding is None:
        raise ValueError("upload has no embedding; the analysis step did not run")
    ranking = similar_works(
        upload.embedding,
        query_artist=artist_from_hint(upload.artist_hint),
        k=RESULT_COUNT,
        exclude_ids=insights.upload_excluded_ids(upload_id=upload_id),  # the work it is a copy of
    )
    with transaction.atomic():
        upload = _leased(upload_id, token)
        if upload is None:
            logger.warning("upload %s: lease lost during matching; another worker has the step", upload_id)
            return False
        Match.objects.filter(upload=upload).delete()
        Match.objects.bulk_create(Match(upload=upload, **m.as_row()) for m in ranking.matches)
        upload.query_artist = ranking.query_artist
        upload.influence_skipped = ranking.influence_skipped
        upload.status = Upload.Status.DONE
        upload.stage = Upload.Stage.DONE
        upload.progress = 100
        upload.error = ""
        upload.finished_at = timezone.now()
        upload.claim_token, upload.lease_expires_at = "", None
        upload.save(
            update_fields=[
                "query_artist",
                "influence_skipped",
                "status",
                "stage",
                "progress",
                "error",
                "finished_at",
                "claim_token",
                "lease_expires_at",
                "updated_at",
            ]
        )
    return True


def upload_reanalyse(*, upload: Upload) -> Upload:
    """A new upload of the same image, analysed with the active model; the old one keeps its results.

    The stored image is copied (not shared), so deleting either upload never breaks the other.
    """
    from recommender.tasks import upload_enqueue  # tasks imports this module

    with upload.image.open("rb") as handle, transaction.atomic():
        again = Upload(
            owner=upload.owner,
            original_filename=upload.original_filename,
            source_url=upload.source_url,
            artist_hint=upload.artist_hint,
        )
        again.image.save(upload.image.name.rsplit("/", 1)[-1], File(handle), save=False)
        again.save()
        transaction.on_commit(lambda: upload_enqueue(again.pk))
    return again


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
