"""The batched analysis step (recommender.pipeline.upload_analyse_waiting, recommender.tasks.analyse_upload):
uploads that wait are classified in one forward pass, with the results each would get alone, under
each upload's own lease rules; a failing image fails only its upload. Real model, database, storage
and (end to end) a real Celery worker on the Redis broker."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from gallery import services
from gallery.models import Match, Prediction, Upload
from recommender import leases, pipeline
from recommender.ml.style_model import StyleModel
from recommender.models import UploadInsight
from recommender.tasks import analyse_upload, match_upload

pytestmark = pytest.mark.slow

# Thumbnail to a large photo, portrait and landscape: what 20 clients send at once.
SIZES = [(64, 48), (224, 224), (300, 500), (1600, 1200), (900, 1400)]
CLASSIFYING = Upload.Stage.CLASSIFYING


def _jpeg(index: int, size: tuple[int, int]) -> bytes:
    catalogue = sorted((settings.DEMO_CATALOGUE_DIR / "images").glob("*.jpg"))
    with Image.open(catalogue[index * 7]) as painting:
        out = io.BytesIO()
        painting.convert("RGB").resize(size, Image.Resampling.BICUBIC).save(out, "JPEG", quality=90)
    return out.getvalue()


def _stored_upload(owner, index: int, size: tuple[int, int]) -> Upload:
    """A queued upload row with its image in storage and no message sent (the test drives the steps)."""
    upload = Upload(owner=owner, original_filename=f"p{index}.jpg")
    upload.image.save(f"p{index}.jpg", ContentFile(_jpeg(index, size)), save=False)
    upload.save()
    return upload


@pytest.fixture
def passes(monkeypatch) -> list[int]:
    """The batch size of every analysis pass over images (the real model still runs); the worker's
    warm-up pass over a blank image is not counted."""
    sizes: list[int] = []
    original = StyleModel.analyse

    def counted(self: StyleModel, images: np.ndarray):
        if np.any(images):
            sizes.append(len(images))
        return original(self, images)

    monkeypatch.setattr(StyleModel, "analyse", counted)
    return sizes


def _results(upload_id: int) -> tuple[np.ndarray, dict[str, float]]:
    upload = Upload.objects.get(pk=upload_id)
    probs = dict(Prediction.objects.filter(upload_id=upload_id).values_list("style__name", "probability"))
    return np.asarray(upload.embedding, np.float32), probs


def _claim(upload_id: int, token: str) -> bool:
    return leases.upload_claim(upload_id=upload_id, stage=CLASSIFYING, progress=10, token=token)


def _unexpected(upload_id: int, exc: Exception) -> None:
    raise AssertionError(f"upload {upload_id} failed: {exc!r}")


def test_a_batch_gives_each_upload_what_a_pass_of_its_own_gives(db, owner, style_model, passes) -> None:
    uploads = [_stored_upload(owner, i, size) for i, size in enumerate(SIZES)]
    alone = {}
    for upload in uploads:
        assert _claim(upload.pk, f"alone-{upload.pk}")
        assert pipeline.upload_analyse(upload_id=upload.pk, token=f"alone-{upload.pk}")
        alone[upload.pk] = _results(upload.pk)
    assert passes == [1] * len(uploads)

    # The same uploads waiting again: the first one's message takes all of them into one pass.
    Prediction.objects.filter(upload__in=uploads).delete()
    Upload.objects.filter(pk__in=[u.pk for u in uploads]).update(
        status=Upload.Status.QUEUED, stage=Upload.Stage.QUEUED, embedding=None
    )
    passes.clear()
    assert _claim(uploads[0].pk, "batch")
    stored = pipeline.upload_analyse_waiting(upload_id=uploads[0].pk, token="batch", fail=_unexpected)

    assert sorted(stored) == sorted(u.pk for u in uploads)
    assert passes == [len(uploads)]
    for upload in uploads:
        embedding, probs = _results(upload.pk)
        np.testing.assert_allclose(embedding, alone[upload.pk][0], atol=1e-5)
        assert probs.keys() == alone[upload.pk][1].keys() and len(probs) == len(style_model.classes)
        np.testing.assert_allclose([probs[k] for k in probs], [alone[upload.pk][1][k] for k in probs], atol=1e-5)
        upload.refresh_from_db()
        assert (upload.status, upload.stage) == (Upload.Status.RUNNING, Upload.Stage.MATCHING)
        assert upload.claim_token == "" and upload.lease_expires_at is None  # released for matching


def test_the_batch_takes_only_uploads_that_wait_and_are_free(db, owner, style_model, passes) -> None:
    first, free, leased, done, analysed, expired = (_stored_upload(owner, i, (224, 224)) for i in range(6))
    now = timezone.now()
    Upload.objects.filter(pk=leased.pk).update(
        status=Upload.Status.RUNNING, claim_token="other-worker", lease_expires_at=now + timedelta(minutes=5)
    )
    Upload.objects.filter(pk=done.pk).update(status=Upload.Status.DONE)
    assert _claim(analysed.pk, "earlier") and pipeline.upload_analyse(upload_id=analysed.pk, token="earlier")
    # Queued again with an expired lease (its worker vanished): free to take.
    Upload.objects.filter(pk=expired.pk).update(claim_token="dead-worker", lease_expires_at=now - timedelta(seconds=1))
    passes.clear()

    assert _claim(first.pk, "batch")
    stored = pipeline.upload_analyse_waiting(upload_id=first.pk, token="batch", fail=_unexpected)

    assert sorted(stored) == sorted([first.pk, free.pk, expired.pk]) and passes == [3]
    leased.refresh_from_db()
    assert leased.claim_token == "other-worker" and leased.embedding is None
    assert Upload.objects.get(pk=done.pk).predictions.count() == 0
    # A batch-mate's own message finds its analysis stored: no second pass (it goes on to matching).
    before = list(Prediction.objects.filter(upload=free).values_list("pk", flat=True))
    analyse_upload.apply(args=[free.pk])
    assert list(Prediction.objects.filter(upload=free).values_list("pk", flat=True)) == before
    assert passes == [3]
    # A redelivery of the batch's own message may take its upload back (same token) until it is stored.
    assert not _claim(first.pk, "batch")  # stored and released: matching comes next


def test_batch_size_is_bounded(db, owner, style_model, passes, settings) -> None:
    settings.ANALYSE_BATCH_MAX = 3
    uploads = [_stored_upload(owner, i, (224, 224)) for i in range(5)]
    assert _claim(uploads[0].pk, "batch")
    stored = pipeline.upload_analyse_waiting(upload_id=uploads[0].pk, token="batch", fail=_unexpected)
    assert list(stored) == [u.pk for u in uploads[:3]] and passes == [3]  # oldest first
    assert set(Upload.objects.filter(pk__in=[u.pk for u in uploads[3:]]).values_list("status", flat=True)) == {
        Upload.Status.QUEUED
    }


def test_a_redelivered_batch_message_takes_its_whole_batch_back(db, owner, style_model, passes) -> None:
    """The worker child died mid-batch (nothing stored): the message comes back with the same task id
    and takes its own upload and the batch-mates it held, whose leases are still live."""
    first, mate, other = (_stored_upload(owner, i, (224, 224)) for i in range(3))
    assert _claim(first.pk, "batch")
    assert leases.uploads_claim_waiting(token="batch", limit=1, exclude=[first.pk]) == [mate.pk]
    assert not _claim(mate.pk, "mate-own-message")  # the batch's lease is live

    assert _claim(first.pk, "batch")  # redelivery
    stored = pipeline.upload_analyse_waiting(upload_id=first.pk, token="batch", fail=_unexpected)
    assert sorted(stored) == sorted([first.pk, mate.pk, other.pk]) and passes == [3]


def test_a_batch_mate_whose_lease_was_taken_writes_nothing(db, owner, style_model) -> None:
    first, mate = (_stored_upload(owner, i, (224, 224)) for i in range(2))
    assert _claim(first.pk, "batch")
    assert leases.uploads_claim_waiting(token="batch", limit=5, exclude=[first.pk]) == [mate.pk]
    # The batch stalls past its lease; the sweep's message takes the mate.
    Upload.objects.filter(pk=mate.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert _claim(mate.pk, "sweep-message")

    assert list(pipeline.uploads_analyse(upload_ids=[first.pk, mate.pk], token="batch")) == [first.pk]
    mate.refresh_from_db()
    assert mate.embedding is None and mate.claim_token == "sweep-message" and mate.predictions.count() == 0


def test_a_failing_image_fails_only_its_upload(db, owner, style_model, passes) -> None:
    first, broken, last = (_stored_upload(owner, i, (400, 300)) for i in range(3))
    with broken.image.storage.open(broken.image.name, "wb") as handle:
        handle.write(b"\xff\xd8 not a jpeg any more")
    failures: list[int] = []

    def fail(upload_id: int, exc: Exception) -> None:
        failures.append(upload_id)
        leases.upload_fail(upload_id=upload_id, reason="unreadable", token="batch")

    assert _claim(first.pk, "batch")
    stored = pipeline.upload_analyse_waiting(upload_id=first.pk, token="batch", fail=fail)

    assert sorted(stored) == sorted([first.pk, last.pk]) and failures == [broken.pk] and passes == [2]
    broken.refresh_from_db()
    assert broken.status == Upload.Status.FAILED and broken.error == "unreadable" and broken.embedding is None
    assert Upload.objects.get(pk=last.pk).predictions.count() > 0


def test_an_error_of_the_whole_batch_gives_the_mates_back(db, owner, style_model) -> None:
    """An error the task retries (here: the image is gone, counted as retryable) raises; the mates'
    leases are released for their own messages, the task's own upload keeps its lease for the retry."""
    first, mate = (_stored_upload(owner, i, (224, 224)) for i in range(2))
    first.image.storage.delete(first.image.name)
    assert _claim(first.pk, "batch")
    with pytest.raises(FileNotFoundError):
        pipeline.upload_analyse_waiting(upload_id=first.pk, token="batch", fail=_unexpected, retry_on=(OSError,))
    mate.refresh_from_db()
    assert mate.claim_token == "" and mate.lease_expires_at is None and mate.embedding is None
    assert _claim(mate.pk, "mate-own-message")
    assert Upload.objects.get(pk=first.pk).claim_token == "batch"


@pytest.fixture
def uploads_waiting(demo_catalogue, owner) -> Iterator[list[Upload]]:
    """Six uploads sent while no worker runs (one with a broken stored image), then a worker starts."""
    uploads = [
        services.upload_create(owner=owner, image_file=SimpleUploadedFile(f"p{i}.jpg", _jpeg(i, SIZES[i % len(SIZES)])))
        for i in range(6)
    ]
    broken = uploads[3]
    with broken.image.storage.open(broken.image.name, "wb") as handle:
        handle.write(b"\xff\xd8 not a jpeg any more")
    yield uploads


def test_worker_batches_waiting_uploads_and_each_reaches_its_end(uploads_waiting, passes) -> None:
    from artsite.celery import app

    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if all(u.is_finished for u in Upload.objects.filter(pk__in=[u.pk for u in uploads_waiting])):
                break
            time.sleep(0.2)
    rows = {u.pk: u for u in Upload.objects.filter(pk__in=[u.pk for u in uploads_waiting])}
    broken = uploads_waiting[3].pk
    assert rows[broken].status == Upload.Status.FAILED
    assert "went wrong while analysing" in rows[broken].error
    for pk, upload in rows.items():
        if pk != broken:
            assert upload.status == Upload.Status.DONE, (upload.stage, upload.error)
            assert upload.matches.count() == 10 and upload.predictions.count() > 0
    assert passes == [5]  # the first message took every readable waiting upload into one pass, once


def test_the_batch_matches_its_uploads_itself(demo_catalogue, owner, style_model, passes) -> None:
    """One analyse message finishes its whole batch: the mates' match steps do not go to the back
    of a long queue (their own messages then find them done and change nothing)."""
    uploads = [_stored_upload(owner, i, (300, 240)) for i in range(3)]

    analyse_upload.apply(args=[uploads[0].pk], task_id="batch-message")

    rows = Upload.objects.filter(pk__in=[u.pk for u in uploads])
    assert passes == [3]
    for upload in rows:
        assert (upload.status, upload.stage, upload.claim_token) == (Upload.Status.DONE, Upload.Stage.DONE, "")
        assert upload.matches.count() == 10
    finished = {u.pk: u.finished_at for u in rows}
    for upload in uploads:  # the chains' own match messages, arriving afterwards
        match_upload.apply(args=[upload.pk])
        analyse_upload.apply(args=[upload.pk])
    assert {u.pk: u.finished_at for u in Upload.objects.filter(pk__in=finished)} == finished
    assert passes == [3]


def test_one_message_per_upload_runs_whatever_step_is_left(demo_catalogue, owner, style_model, passes) -> None:
    """An upload is sent as one message (no analyse → match chain): when another message's batch
    analysed it but has not matched it (that batch's match step failed and was sent alone, or this
    message came first), its own message does the matching, and no second pass."""
    from recommender.tasks import upload_pipeline

    signature = upload_pipeline(1)
    assert signature.task == analyse_upload.name and not signature.options.get("link")

    analysed, fresh = _stored_upload(owner, 0, (300, 240)), _stored_upload(owner, 1, (224, 224))
    assert _claim(analysed.pk, "other-batch") and pipeline.upload_analyse(upload_id=analysed.pk, token="other-batch")
    passes.clear()

    analyse_upload.apply(args=[analysed.pk], task_id="its-own-message")

    analysed.refresh_from_db()
    assert passes == [] and (analysed.status, analysed.stage) == (Upload.Status.DONE, Upload.Stage.DONE)
    assert analysed.matches.count() == 10
    # A fresh upload's one message analyses and matches it.
    analyse_upload.apply(args=[fresh.pk], task_id="fresh-message")
    fresh.refresh_from_db()
    assert passes == [1] and fresh.status == Upload.Status.DONE and fresh.matches.count() == 10


def _analysis_statements(owner, count: int, first_index: int) -> tuple[list[int], int]:
    uploads = [_stored_upload(owner, first_index + i, (260, 200)) for i in range(count)]
    for upload in uploads:
        assert _claim(upload.pk, f"batch-{first_index}")
    with CaptureQueriesContext(connection) as queries:
        stored = pipeline.uploads_analyse(upload_ids=[u.pk for u in uploads], token=f"batch-{first_index}")
    assert sorted(stored) == sorted(u.pk for u in uploads)
    return stored, len(queries)


def test_a_batch_writes_its_rows_with_a_statement_per_step_not_per_upload(demo_catalogue, owner, style_model) -> None:
    """The analysis rows of a batch (predictions, embeddings, insights) are written in one transaction:
    each extra upload adds its nearest-works query and its own row's update, nothing else; a re-run
    replaces the insight rows and their files, and the old files go once it commits."""
    _, two = _analysis_statements(owner, 2, 0)
    stored, six = _analysis_statements(owner, 6, 2)
    assert six - two <= 4 * 2, (two, six)  # per upload: its HNSW query and its row's UPDATE

    insights_before = {i.upload_id: i for i in UploadInsight.objects.filter(upload_id__in=stored)}
    assert all(i.heatmap and i.palette for i in insights_before.values())
    Upload.objects.filter(pk__in=stored).update(embedding=None)  # to be analysed again
    for upload_id in stored:
        assert leases.upload_claim(upload_id=upload_id, stage=CLASSIFYING, progress=10, token="again")
    assert sorted(pipeline.uploads_analyse(upload_ids=stored, token="again")) == sorted(stored)
    for upload_id, before in insights_before.items():
        after = UploadInsight.objects.get(upload_id=upload_id)
        assert after.heatmap.name != before.heatmap.name and after.heatmap.storage.exists(after.heatmap.name)
        assert not before.heatmap.storage.exists(before.heatmap.name)  # removed on commit
        assert after.palette == before.palette and after.phash == before.phash
        assert Prediction.objects.filter(upload_id=upload_id).count() == len(style_model.classes)


def test_the_batch_matches_its_uploads_together_as_each_would_be_alone(
    demo_catalogue, owner, style_model, passes, settings
) -> None:
    """The batch's match step (one claim, the analysis's nearest works reused, one write) gives each
    upload the matches a match step of its own gives, the copy of a catalogue work left out, and
    each extra upload costs its own two row updates and one nearest-works query, nothing more."""
    settings.ANALYSE_BATCH_WAIT_MS = 0  # every upload is waiting already: no collecting loop to count
    with CaptureQueriesContext(connection) as two:
        small = [_stored_upload(owner, i, (300, 240)) for i in range(2)]
        analyse_upload.apply(args=[small[0].pk], task_id="batch-of-two")
    uploads = [_stored_upload(owner, 2 + i, (300, 240)) for i in range(4)]
    for row in demo_catalogue[:2]:  # copies of catalogue works: each match step must leave its work out
        with Image.open(settings.DEMO_CATALOGUE_DIR / row["file"]) as painting:
            out = io.BytesIO()
            painting.convert("RGB").resize((300, 240), Image.Resampling.BICUBIC).save(out, "JPEG", quality=90)
        copy = Upload(owner=owner, original_filename="copy.jpg")
        copy.image.save("copy.jpg", ContentFile(out.getvalue()), save=False)
        copy.save()
        uploads.append(copy)
    with CaptureQueriesContext(connection) as six:
        analyse_upload.apply(args=[uploads[0].pk], task_id="batch-of-six")
    assert passes == [2, 6]
    inserts = sum('INSERT INTO "gallery_upload"' in q["sql"] for q in two.captured_queries)
    assert len(six) - (len(two) - inserts) <= 4 * 3, (len(two) - inserts, len(six))

    rows = Upload.objects.filter(pk__in=[u.pk for u in uploads]).select_related("insight")
    assert {u.status for u in rows} == {Upload.Status.DONE}
    copies = [u for u in rows if u.insight.duplicate_of_id]
    assert len(copies) == 2
    together = {u.pk: list(u.matches.order_by("rank").values_list("artwork_id", "final_score")) for u in rows}
    for upload in copies:
        assert upload.insight.duplicate_of_id not in {work for work, _ in together[upload.pk]}

    Upload.objects.filter(pk__in=together).update(status=Upload.Status.RUNNING, stage=Upload.Stage.MATCHING)
    for upload_id in together:
        assert leases.upload_claim(upload_id=upload_id, stage=Upload.Stage.MATCHING, progress=60, token="alone")
        assert pipeline.upload_match(upload_id=upload_id, token="alone")
        alone = list(
            Match.objects.filter(upload_id=upload_id).order_by("rank").values_list("artwork_id", "final_score")
        )
        assert [w for w, _ in alone] == [w for w, _ in together[upload_id]]
        np.testing.assert_allclose([s for _, s in alone], [s for _, s in together[upload_id]], atol=1e-6)
