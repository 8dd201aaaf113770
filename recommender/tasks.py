"""The upload pipeline as Celery tasks: analyse (classify + embed) → match, plus the stale-claim sweep.

One message per upload (`analyse_upload`) runs whichever step is left: its analysis, in a batch that
also matches every upload it analysed, or, when another message's batch analysed it first, its
matching. A second message per upload (the analyse → match chain this replaced) cost the worker
~5 ms of Celery and a claim for a step that was almost always done already (issue 19).
`match_upload` is sent alone only when matching inside a batch failed.

Each task takes an id, claims its step with a lease on the upload row (`recommender.leases`; token =
the task id, which a redelivered or retried message keeps), calls one `recommender.pipeline` function
(the analysis takes the other uploads waiting into the same forward pass:
`pipeline.upload_analyse_waiting`), retries transient
failures with exponential backoff and, after the last retry or on a permanent error, records a reason
a person understands. acks_late + reject_on_worker_lost (settings) make a task whose worker child died
run again at once; the steps replace their results, so a re-run never duplicates rows.

Task names changed with the move from `gallery.tasks` (2026-11): a message queued under an old name
is refused by the worker as unregistered, and the sweep sends its upload again under the new name
once it has been still for settings.UPLOAD_REQUEUE_AFTER_S.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from celery import Signature, Task, shared_task
from celery.signals import worker_process_init, worker_ready
from django.db import InterfaceError, OperationalError, connection, transaction
from kombu.exceptions import OperationalError as BrokerError

from gallery.images import ImageRejected
from gallery.models import Upload

from . import leases, pipeline
from .versions import active_style_model

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, BrokerError, ConnectionError, TimeoutError)


def readable_reason(exc: BaseException) -> str:
    if isinstance(exc, ImageRejected):
        return str(exc)
    if isinstance(exc, TRANSIENT):
        return "A service we depend on was unavailable for too long. Please try this upload again later."
    if isinstance(exc, Upload.DoesNotExist):
        return "The upload was deleted."
    return "Something went wrong while analysing this image. Please try again; if it keeps failing, tell us."


class UploadTask(Task):
    autoretry_for = TRANSIENT
    retry_backoff = 2
    retry_backoff_max = 60  # below the broker's visibility timeout, so a waiting retry is not redelivered
    retry_jitter = True
    max_retries = 4
    acks_late = True

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Called once retries are exhausted or for a permanent error: the user sees why.
        logger.error("upload %s failed in %s: %r", args[0] if args else "?", self.name, exc)
        leases.upload_fail(upload_id=args[0], reason=readable_reason(exc), token=task_id)


def _claim_and_run(upload_id: int, stage: str, progress: int, step: Callable[..., object], token: str) -> None:
    """Run `step` for the upload if the claim of `stage` under `token` holds."""
    if leases.upload_claim(upload_id=upload_id, stage=stage, progress=progress, token=token):
        step(upload_id=upload_id, token=token)


def _run_step(task: Task, upload_id: int, stage: str, progress: int, step: Callable[..., object]) -> int:
    """Claim the step under this message's id (a redelivery keeps it) and run it if the claim holds."""
    _claim_and_run(upload_id, stage, progress, step, task.request.id)
    return upload_id


def _fail_one(upload_id: int, exc: Exception, token: str) -> None:
    """One upload of a batch failed for good (its image, its row): record why for that upload alone."""
    logger.error("upload %s failed in its analysis batch: %r", upload_id, exc)
    leases.upload_fail(upload_id=upload_id, reason=readable_reason(exc), token=token)


def _analyse_batch(*, upload_id: int, token: str) -> None:
    """This upload and those waiting beside it in one forward pass (recommender.pipeline), then the
    matching of each, in this task: a match message sent now would wait behind the whole queue, and
    the batch exists because the queue is long. The batch-mates' own messages then find them done
    and do nothing."""
    analysed = pipeline.upload_analyse_waiting(
        upload_id=upload_id,
        token=token,
        fail=lambda failed_id, exc: _fail_one(failed_id, exc, token),
        retry_on=TRANSIENT,
    )
    try:  # the whole batch in one step: one claim, one write (pipeline.uploads_match)
        claimed = leases.uploads_claim_matching(upload_ids=list(analysed), token=token) if analysed else []
        if claimed:
            pipeline.uploads_match(upload_ids=claimed, token=token, known=analysed)
        return
    except Exception:
        logger.exception("matching the batch of upload %s together failed; matching its uploads one by one", upload_id)
    for done in analysed:
        _match_now_or_send(done, token)


def _match_now_or_send(upload_id: int, token: str) -> None:
    """Match one analysed upload under the batch's token; on any error, give its lease back and send
    its match step as a message of its own (with its own retries), so one upload's trouble neither
    fails the batch nor is lost."""
    try:
        _claim_and_run(upload_id, Upload.Stage.MATCHING, 60, pipeline.upload_match, token)
        return
    except Exception:
        logger.exception("upload %s: matching inside its batch failed; sending it on its own", upload_id)
    try:
        leases.uploads_release(upload_ids=[upload_id], token=token)
        match_upload.apply_async((upload_id,))
    except Exception:  # database or broker down: the lease expires and the sweep sends it again
        logger.exception("could not send matching for upload %s; the sweep will send it again", upload_id)


@shared_task(base=UploadTask, bind=True)
def analyse_upload(self: Task, upload_id: int) -> int:
    """The upload's one message: the analysis (a batch, which matches too) or, if another message's
    batch analysed it and has not matched it yet (that match failed and was sent alone, or this
    message came first), the matching. A finished upload fails both claims and nothing runs."""
    token = self.request.id
    if leases.upload_claim(upload_id=upload_id, stage=Upload.Stage.CLASSIFYING, progress=10, token=token):
        _analyse_batch(upload_id=upload_id, token=token)
    else:
        _claim_and_run(upload_id, Upload.Stage.MATCHING, 60, pipeline.upload_match, token)
    return upload_id


@shared_task(base=UploadTask, bind=True)
def match_upload(self: Task, upload_id: int) -> int:
    return _run_step(self, upload_id, Upload.Stage.MATCHING, 60, pipeline.upload_match)


def upload_pipeline(upload_id: int) -> Signature:
    """The one message an upload needs (an immutable signature: the task gets only the id)."""
    return analyse_upload.si(upload_id)


def upload_created(*, upload_id: int) -> None:
    """The handler of gallery.handover.upload_created: send the pipeline once the upload is committed."""
    transaction.on_commit(lambda: upload_enqueue(upload_id))


def upload_enqueue(upload_id: int) -> None:
    """Send the pipeline for one upload. A broker outage is logged, not raised: the upload stays
    queued in the database and the sweep sends it again, so the outage delays it instead of losing it."""
    try:
        upload_pipeline(upload_id).apply_async()
    except (BrokerError, ConnectionError, OSError):
        logger.exception("could not enqueue upload %s; the sweep will send it again", upload_id)


@shared_task(ignore_result=True)
def requeue_stale_uploads() -> int:
    """The periodic sweep (settings.CELERY_BEAT_SCHEDULE; the worker runs beat with -B)."""
    count = leases.uploads_requeue_stale(enqueue=upload_enqueue)
    if count:
        logger.warning("re-queued %s stale uploads", count)
    return count


def _warm_up_model() -> None:
    """Load the model the pipeline will use: the active version recorded in the database (after a
    switch it is not the configured one), or the configured one while the database is unreachable."""
    from .ml.style_model import get_style_model  # heavy: numpy; the web process imports this module

    try:
        try:
            model = active_style_model()
        except (OperationalError, InterfaceError):
            logger.warning("database unreachable at warm-up; warming the configured style model instead")
            model = get_style_model()
        finally:
            connection.close()  # this thread's own connection; the thread ends here
        model.warmup()
    except FileNotFoundError:
        logger.exception("no style model found; uploads will fail until one is installed")
    except Exception:
        # A task loads the model itself on first use (lock-guarded); a failed warm-up only costs time.
        logger.exception("style model warm-up failed")


@worker_process_init.connect
def _warm_up_in_background(**_) -> None:
    """Load and trace the style model in each pool child without blocking its start-up.

    The parent kills a child that has not reported "up" within worker_proc_alive_timeout (4 s), and
    loading TensorFlow and the model takes longer than that on a busy machine: warming up inside this
    handler made every restarted child (after an OOM kill, a hard time limit, kill -9) die the same
    way, forever. A task that arrives during the warm-up waits on the model's load lock instead.
    """
    threading.Thread(target=_warm_up_model, name="style-model-warmup", daemon=True).start()


@worker_ready.connect
def _requeue_stale_uploads(**_) -> None:
    """Uploads whose message was lost (broker down at upload time, worker killed) run again."""
    count = leases.uploads_requeue_stale(enqueue=upload_enqueue)
    if count:
        logger.warning("re-queued %s unfinished uploads", count)
