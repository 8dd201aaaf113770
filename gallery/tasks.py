"""The upload pipeline: analyse (classify + embed) → match. Small tasks that take ids.

Each task claims its upload with a conditional update (a finished upload is never redone), calls one
service, retries transient failures with exponential backoff and, after the last retry or on a
permanent error, records a reason a person understands. acks_late (settings) makes a task whose
worker died run again; the services replace their results, so a re-run never duplicates rows.
"""

from __future__ import annotations

import logging

from celery import Task, chain, shared_task
from celery.signals import worker_process_init, worker_ready
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from . import services
from .images import ImageRejected
from .models import Upload

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
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = 4
    acks_late = True

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Called once retries are exhausted or for a permanent error: the user sees why.
        logger.error("upload %s failed in %s: %r", args[0] if args else "?", self.name, exc)
        services.upload_fail(upload_id=args[0], reason=readable_reason(exc))


@shared_task(base=UploadTask, bind=True)
def analyse_upload(self, upload_id: int) -> int:
    if services.upload_claim(upload_id=upload_id, stage=Upload.Stage.CLASSIFYING, progress=10):
        services.upload_analyse(upload_id=upload_id)
    return upload_id


@shared_task(base=UploadTask, bind=True)
def match_upload(self, upload_id: int) -> int:
    if services.upload_claim(upload_id=upload_id, stage=Upload.Stage.MATCHING, progress=60):
        services.upload_match(upload_id=upload_id)
    return upload_id


def upload_pipeline(upload_id: int):
    """The chain for one upload; immutable signatures so each step gets only the id."""
    return chain(analyse_upload.si(upload_id), match_upload.si(upload_id))


@worker_process_init.connect
def _warm_up_model(**_) -> None:
    """Load and trace the style model when a worker process starts, not on the first user's upload."""
    from recommender.ml.style_model import get_style_model

    try:
        get_style_model().warmup()
    except FileNotFoundError:
        logger.exception("no style model found; uploads will fail until one is installed")


@worker_ready.connect
def _requeue_stale_uploads(**_) -> None:
    """Uploads whose message was lost (broker down at upload time, worker killed) run again."""
    count = services.uploads_requeue_stale()
    if count:
        logger.warning("re-queued %s unfinished uploads", count)
