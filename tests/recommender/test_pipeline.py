"""Upload → analysis → matches (recommender.pipeline, recommender.tasks), through a real Celery worker on
the Redis broker; leases and the stale-upload sweep against the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gallery import services
from gallery.images import ImageRejected
from gallery.models import Match, Prediction, Upload
from recommender import leases, pipeline
from recommender.tasks import analyse_upload, match_upload, upload_enqueue
from tests.factories import upload_create as upload_factory
from tests.factories import upload_wait_finished


def _painting(demo_catalogue) -> SimpleUploadedFile:
    row = demo_catalogue[0]
    return SimpleUploadedFile("my painting.jpg", (settings.DEMO_CATALOGUE_DIR / row["file"]).read_bytes())


def test_upload_runs_through_worker_to_done(demo_catalogue, worker, owner, style_model) -> None:
    upload = services.upload_create(owner=owner, image_file=_painting(demo_catalogue), artist_hint="")
    assert upload.status == Upload.Status.QUEUED

    upload = upload_wait_finished(upload.pk)

    assert upload.status == Upload.Status.DONE, upload.error
    assert upload.progress == 100 and upload.finished_at is not None
    assert upload.model_version == style_model.version
    predictions = list(upload.predictions.order_by("rank"))
    assert [p.style.name for p in predictions] != []
    assert sum(p.probability for p in predictions) == pytest.approx(1.0, abs=1e-3)
    assert predictions[0].probability == max(p.probability for p in predictions)
    matches = list(upload.matches.order_by("rank"))
    assert len(matches) == 10
    assert [m.final_score for m in matches] == sorted((m.final_score for m in matches), reverse=True)
    # The uploaded file is a catalogue painting: recognised as that work and left out of the matches.
    assert upload.insight.duplicate_of.source_id == demo_catalogue[0]["id"]
    assert upload.insight.duplicate_similarity > 0.95
    assert demo_catalogue[0]["id"] not in {m.artwork.source_id for m in matches}
    assert upload.original_filename == "my painting.jpg"
    assert upload.image.name != "my painting.jpg"


def test_tasks_are_idempotent(demo_catalogue, owner) -> None:
    upload = services.upload_create(owner=owner, image_file=_painting(demo_catalogue))
    # No worker here: run the steps in this process, twice each.
    analyse_upload.apply(args=[upload.pk])
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.RUNNING)
    analyse_upload.apply(args=[upload.pk])
    assert Prediction.objects.filter(upload=upload).count() == len(
        set(upload.predictions.values_list("style", flat=True))
    )
    match_upload.apply(args=[upload.pk])
    first = list(Match.objects.filter(upload=upload).values_list("artwork_id", "rank"))
    match_upload.apply(args=[upload.pk])  # finished: a re-delivered task does nothing
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.RUNNING)
    match_upload.apply(args=[upload.pk])  # re-run of an unfinished step replaces, never duplicates
    assert list(Match.objects.filter(upload=upload).values_list("artwork_id", "rank")) == first
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.DONE


def test_neo4j_down_still_completes_visually(demo_catalogue, owner, neo4j_down) -> None:
    upload = services.upload_create(owner=owner, image_file=_painting(demo_catalogue), artist_hint="Claude Monet")
    analyse_upload.apply(args=[upload.pk])
    match_upload.apply(args=[upload.pk])
    upload.refresh_from_db()
    assert upload.status == Upload.Status.DONE
    assert upload.influence_skipped
    assert upload.matches.count() == 10


def test_missing_image_fails_with_reason(demo_catalogue, owner) -> None:
    upload = services.upload_create(owner=owner, image_file=_painting(demo_catalogue))
    upload.image.storage.delete(upload.image.name)
    analyse_upload.apply(args=[upload.pk])
    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED
    assert "went wrong while analysing" in upload.error
    assert upload.predictions.count() == 0


def test_rejected_file_saves_nothing(owner, tmp_path) -> None:
    before = set(p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())
    with pytest.raises(ImageRejected):
        services.upload_create(owner=owner, image_file=SimpleUploadedFile("x.jpg", b"not an image at all"))
    assert Upload.objects.count() == 0
    assert set(p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()) == before


def test_delete_removes_file_and_results(demo_catalogue, owner) -> None:
    upload = services.upload_create(owner=owner, image_file=_painting(demo_catalogue))
    analyse_upload.apply(args=[upload.pk])
    match_upload.apply(args=[upload.pk])
    name = upload.image.name
    services.upload_delete(upload=upload)
    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert Prediction.objects.filter(upload_id=upload.pk).count() == 0
    assert not upload.image.storage.exists(name)


def test_broker_down_keeps_the_upload_and_a_worker_requeues_it(demo_catalogue, owner, settings) -> None:
    from artsite.celery import app

    good_broker = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens: a real connection failure
    app._after_fork()  # drop the pooled connections to the good broker (what Celery does in a fork)
    try:
        upload = services.upload_create(owner=owner, image_file=_painting(demo_catalogue))
    finally:
        app.conf.broker_url = good_broker
        app._after_fork()
    upload.refresh_from_db()
    assert upload.status == Upload.Status.QUEUED  # saved, nothing lost, nothing sent

    Upload.objects.filter(pk=upload.pk).update(updated_at=upload.updated_at - timedelta(minutes=5))
    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30):
        # worker_ready does not fire for the in-thread test worker, so call what it runs.
        assert leases.uploads_requeue_stale(enqueue=upload_enqueue) == 1
        assert upload_wait_finished(upload.pk).status == Upload.Status.DONE


# --- Leases: one step, one holder ---------------------------------------------------------------


def _claim(upload_id: int, token: str, stage: str = Upload.Stage.CLASSIFYING) -> bool:
    return leases.upload_claim(upload_id=upload_id, stage=stage, progress=10, token=token)


def test_a_live_lease_is_not_stolen_but_its_own_redelivery_takes_it_back(owner) -> None:
    upload = upload_factory(owner=owner)
    assert _claim(upload.pk, "task-a")
    upload.refresh_from_db()
    assert upload.status == Upload.Status.RUNNING and upload.claim_token == "task-a"
    assert upload.lease_expires_at > timezone.now() + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)

    assert not _claim(upload.pk, "task-b")  # a duplicate message: the step is running elsewhere
    assert _claim(upload.pk, "task-a")  # the same message redelivered after its worker died

    Upload.objects.filter(pk=upload.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert _claim(upload.pk, "task-b")  # an expired lease is free
    assert Upload.objects.get(pk=upload.pk).claim_token == "task-b"


def test_matching_is_not_claimed_before_the_analysis_stored_an_embedding(owner) -> None:
    upload = upload_factory(owner=owner)
    assert not _claim(upload.pk, "task-m", stage=Upload.Stage.MATCHING)
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.QUEUED


def test_a_step_that_lost_its_lease_writes_nothing(demo_catalogue, owner) -> None:
    upload = services.upload_create(owner=owner, image_file=_painting(demo_catalogue))
    assert _claim(upload.pk, "slow-task")
    Upload.objects.filter(pk=upload.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert _claim(upload.pk, "new-task")

    assert pipeline.upload_analyse(upload_id=upload.pk, token="slow-task") is False
    assert Prediction.objects.filter(upload=upload).count() == 0
    assert not leases.upload_fail(upload_id=upload.pk, reason="late failure", token="slow-task")

    assert pipeline.upload_analyse(upload_id=upload.pk, token="new-task") is True
    upload.refresh_from_db()
    assert upload.predictions.count() > 0 and upload.status == Upload.Status.RUNNING
    assert upload.claim_token == "" and upload.lease_expires_at is None  # released for the match step


def test_sweep_sends_only_stale_unleased_unfinished_uploads(owner) -> None:
    now = timezone.now()
    old = now - timedelta(minutes=5)
    lost = upload_factory(owner=owner)  # queued, its message lost
    between = upload_factory(owner=owner, status=Upload.Status.RUNNING, stage=Upload.Stage.MATCHING)
    expired = upload_factory(owner=owner, status=Upload.Status.RUNNING)
    live = upload_factory(owner=owner, status=Upload.Status.RUNNING)
    upload_factory(owner=owner)  # queued just now: its message is probably still on its way
    done = upload_factory(owner=owner, status=Upload.Status.DONE)
    Upload.objects.filter(pk__in=[lost.pk, between.pk, expired.pk, live.pk, done.pk]).update(updated_at=old)
    Upload.objects.filter(pk=expired.pk).update(claim_token="dead", lease_expires_at=now - timedelta(seconds=1))
    Upload.objects.filter(pk=live.pk).update(claim_token="alive", lease_expires_at=now + timedelta(minutes=5))

    sent: list[int] = []
    assert leases.uploads_requeue_stale(enqueue=sent.append, older_than_s=60) == 3
    assert sent == [lost.pk, between.pk, expired.pk]
    # Touched when sent: the next sweep waits for another period before sending them again.
    assert leases.uploads_requeue_stale(enqueue=sent.append, older_than_s=60) == 0
    assert Upload.objects.get(pk=live.pk).claim_token == "alive"
