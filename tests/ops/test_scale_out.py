"""Scale-out on real parts: web and worker share no disk (S3-compatible storage from moto's server),
and two workers on one queue with one killed lose nothing and finish nothing twice."""

from __future__ import annotations

import time

import numpy as np
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from gallery.catalogue import artwork_save
from gallery.catalogue_folder import CatalogueFolder
from gallery.models import Artwork, Match, Prediction, Upload
from tests.factories import style_get
from tests.s3 import bucket_keys

from .conftest import kill_worker, wait_for, worker_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _painting(index: int) -> bytes:
    row = CatalogueFolder(settings.DEMO_CATALOGUE_DIR).catalogue().rows[index]
    return (settings.DEMO_CATALOGUE_DIR / row["file"]).read_bytes()


def _files_under(folder) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file()]


def test_upload_and_catalogue_edit_complete_with_web_and_worker_on_separate_disks(
    demo_catalogue, owner, client, web_on_s3, tmp_path
):
    with worker_process(tmp_path, "s3-worker", env=web_on_s3) as worker:
        client.force_login(owner)
        response = client.post(
            reverse("api:upload_list"), {"image": SimpleUploadedFile("p.jpg", _painting(3), "image/jpeg")}
        )
        assert response.status_code in {201, 202}, response.content
        upload_id = response.json()["id"]
        upload = wait_for(
            lambda: Upload.objects.filter(pk=upload_id, status__in=["done", "failed"]).first(),
            180,
            "the upload to finish",
            worker["log"],
        )
        assert upload.status == Upload.Status.DONE, upload.error
        assert Prediction.objects.filter(upload=upload).exists()
        assert Match.objects.filter(upload=upload).count() == 10

        # A curator's new work: image into the bucket by the web, embedded by the worker from the bucket.
        artwork = Artwork(source_id="s3-1", title="Stored in the bucket", style=style_get())
        artwork.image.save("s3-work.jpg", ContentFile(_painting(7)), save=False)
        artwork_save(artwork=artwork, image_changed=True)
        embedded = wait_for(
            lambda: Artwork.objects.filter(pk=artwork.pk, embedding__isnull=False).first(),
            120,
            "the new work's embedding",
            worker["log"],
        )
        assert np.isclose(np.linalg.norm(embedded.embedding), 1.0, atol=1e-3)

    keys = bucket_keys(web_on_s3["OPS_S3_ENDPOINT"], web_on_s3["OPS_S3_BUCKET"])
    assert upload.image.name in keys and artwork.image.name in keys
    # Neither process wrote a media file to its own disk: the bucket is the only shared storage.
    assert _files_under(settings.MEDIA_ROOT) == []
    assert _files_under(worker["media"]) == []


def _rows_inserted(table: str) -> int:
    """Rows ever inserted into `table` in this database, by any process (PostgreSQL's statistics)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # read fresh counters, not this session's snapshot
        cursor.execute("SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = %s", [table])
        return int(cursor.fetchone()[0])


def _api_upload(client, index: int) -> int:
    image = SimpleUploadedFile(f"{index}.jpg", _painting(index), "image/jpeg")
    response = client.post(reverse("api:upload_list"), {"image": image})
    assert response.status_code in {201, 202}, response.content
    return response.json()["id"]


def test_two_workers_one_killed_every_upload_done_and_no_step_finished_twice(
    demo_catalogue, owner, client, web_on_s3, tmp_path
):
    """Two worker "hosts" (own media folders, images in the bucket) on one queue; A is SIGKILLed mid-run."""
    client.force_login(owner)
    # Production-like recovery: the killed worker's unacknowledged message comes back once older than
    # kombu's visibility timeout (30 s here), and worker B runs the stale-upload sweep (beat), which
    # re-sends uploads whose lease (task time limit + 30 s; 90 s here) ran out on the dead worker.
    env = {
        **web_on_s3,
        "OPS_WORKER_VISIBILITY_S": "30",
        "CELERY_TASK_TIME_LIMIT": "60",
        "CELERY_TASK_SOFT_TIME_LIMIT": "50",
        "ARTSITE_UPLOAD_SWEEP_S": "5",
        "ARTSITE_UPLOAD_REQUEUE_AFTER_S": "10",
    }
    predictions_before, matches_before = _rows_inserted("gallery_prediction"), _rows_inserted("gallery_match")
    with (
        worker_process(tmp_path, "worker-a", env=env) as a,
        worker_process(tmp_path, "worker-b", env=env, beat=True) as b,
    ):
        ids = [_api_upload(client, i) for i in range(6)]
        wait_for(lambda: "analyse_upload[" in a["log"].read_text(errors="replace"), 120, "worker A to take a task")
        kill_worker(a)  # mid-run (it is still loading the model): its step must come back, not be lost
        killed_at = time.monotonic()
        wait_for(
            lambda: Upload.objects.filter(pk__in=ids, status__in=["done", "failed"]).count() == len(ids),
            300,
            "every upload to finish on worker B",
            b["log"],
        )
        recovered_after = time.monotonic() - killed_at
    uploads = Upload.objects.filter(pk__in=ids)
    assert {u.status for u in uploads} == {Upload.Status.DONE}, [(u.pk, u.error) for u in uploads]
    per_upload = [
        (Prediction.objects.filter(upload=u).count(), Match.objects.filter(upload=u).count()) for u in uploads
    ]
    assert all(m == 10 for _, m in per_upload)
    # No step ran twice: the steps replace their rows, so a second run would insert them again. The
    # statistics count every insert by any process (stats reach the view within a second or so).
    expected_predictions = sum(p for p, _ in per_upload)
    wait_for(
        lambda: _rows_inserted("gallery_prediction") - predictions_before >= expected_predictions, 30, "statistics"
    )
    time.sleep(2)
    assert _rows_inserted("gallery_prediction") - predictions_before == expected_predictions
    assert _rows_inserted("gallery_match") - matches_before == 10 * len(ids)
    print(f"all {len(ids)} uploads done {recovered_after:.0f} s after worker A was killed")
