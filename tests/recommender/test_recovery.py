"""Recovery with a real Celery worker process: a killed pool child comes back and finishes the work;
the periodic sweep (beat inside the worker) re-queues stale claims and leaves live leases alone.

The worker is `celery worker --pool=prefork --concurrency=1` started as a subprocess on this test
run's own queue and database (tests/recommender/worker_settings.py), with the shipped style model.
Processes are killed for real (SIGKILL), nothing is mocked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from gallery import services
from gallery.models import Upload
from recommender import tasks
from recommender.tasks import analyse_upload
from tests.processes import child_pids

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _wait_for(predicate, timeout: float, what: str, log: Path, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    tail = log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; worker log tail:\n{tail}")


@contextmanager
def celery_worker(tmp_path: Path, *, beat: bool = False, env: dict[str, str] | None = None) -> Iterator[dict]:
    """A real prefork worker (concurrency 1) on this run's queue, database and media; stopped after."""
    log = tmp_path / "worker.log"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "artsite",
        "worker",
        "--pool=prefork",
        "--concurrency=1",
        "-Q",
        settings.CELERY_TASK_DEFAULT_QUEUE,
        "-n",
        f"recovery-{uuid.uuid4().hex[:8]}@%h",
        "--without-mingle",
        "--without-gossip",
        "-l",
        "info",
        f"--logfile={log}",
    ]
    if beat:
        command += ["-B", f"--schedule={tmp_path / 'beat-schedule'}"]
    process_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.recommender.worker_settings",
        "ARTSITE_WORKER_DB_NAME": connection.settings_dict["NAME"],
        "ARTSITE_WORKER_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "ARTSITE_WORKER_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "ARTSITE_WORKER_NEO4J_LABEL": settings.NEO4J_ARTIST_LABEL,
        "ARTSITE_STYLE_MODEL_DIR": str(settings.STYLE_MODEL_DIR),
        **(env or {}),
    }
    worker = subprocess.Popen(command, cwd=ROOT, env=process_env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_for(
            lambda: worker.poll() is None and log.exists() and " ready." in log.read_text(errors="replace"),
            120,
            "the worker to be ready",
            log,
            interval=0.2,
        )
        yield {"pid": worker.pid, "log": log}
    finally:
        worker.send_signal(signal.SIGTERM)  # warm shutdown; its children go with it
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            for child in child_pids(worker.pid):
                os.kill(child, signal.SIGKILL)
            worker.kill()
            worker.wait(timeout=10)


def _painting(row: dict[str, str]) -> SimpleUploadedFile:
    return SimpleUploadedFile("painting.jpg", (settings.DEMO_CATALOGUE_DIR / row["file"]).read_bytes())


def test_killed_pool_child_comes_back_and_every_upload_finishes(demo_catalogue, owner, tmp_path) -> None:
    """Issue 8 defect 1: the restarted child must pass Celery's 4 s start-up handshake although
    loading the model takes longer; the task it was running is redelivered and finishes."""
    with celery_worker(tmp_path) as worker:
        uploads = [services.upload_create(owner=owner, image_file=_painting(row)) for row in demo_catalogue[:8]]
        ids = [u.pk for u in uploads]
        killed: list[int] = []
        for _ in range(2):  # the first child, then its replacement: every restart must come back
            running = lambda: Upload.objects.filter(pk__in=ids, status=Upload.Status.RUNNING).exists()  # noqa: E731
            _wait_for(running, 120, "an upload in the middle of a step", worker["log"], interval=0.005)
            child = _wait_for(lambda: child_pids(worker["pid"]) - set(killed), 30, "a pool child", worker["log"])
            pid = next(iter(child))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            _wait_for(lambda: child_pids(worker["pid"]) - set(killed), 30, "a new pool child", worker["log"])

        def all_done() -> bool:
            return not Upload.objects.filter(pk__in=ids).exclude(status=Upload.Status.DONE).exists()

        _wait_for(all_done, 180, "every upload to be done", worker["log"], interval=0.2)
        log = worker["log"].read_text(errors="replace")

    assert len(killed) == 2
    assert "Timed out waiting for UP message" not in log
    for upload in Upload.objects.filter(pk__in=ids):
        assert upload.status == Upload.Status.DONE and upload.error == ""
        assert upload.matches.count() == 10
        assert upload.predictions.count() > 0
        assert upload.claim_token == "" and upload.lease_expires_at is None


def test_sweep_requeues_stale_claims_and_leaves_live_leases_alone(demo_catalogue, owner, tmp_path, monkeypatch) -> None:
    """Issue 8 defect 2: beat inside the worker runs the sweep; a claim whose lease expired (its worker
    died) and an upload whose message was lost finish; a live lease is neither re-queued nor stolen."""
    monkeypatch.setattr(tasks, "upload_enqueue", lambda upload_id: None)  # the messages are "lost"
    long_ago = timezone.now() - timedelta(minutes=10)
    with celery_worker(
        tmp_path, beat=True, env={"ARTSITE_UPLOAD_SWEEP_S": "1", "ARTSITE_UPLOAD_REQUEUE_AFTER_S": "2"}
    ) as worker:
        # Created after the worker is up, so its start-up re-queue cannot be what finishes them.
        stale, lost, live = (
            services.upload_create(owner=owner, image_file=_painting(row)) for row in demo_catalogue[:3]
        )
        Upload.objects.filter(pk=stale.pk).update(
            status=Upload.Status.RUNNING,
            stage=Upload.Stage.CLASSIFYING,
            claim_token="task-of-a-dead-worker",
            lease_expires_at=timezone.now() - timedelta(seconds=1),
            updated_at=long_ago,
        )
        Upload.objects.filter(pk=lost.pk).update(updated_at=long_ago)
        Upload.objects.filter(pk=live.pk).update(
            status=Upload.Status.RUNNING,
            stage=Upload.Stage.CLASSIFYING,
            claim_token="task-of-a-live-worker",
            lease_expires_at=timezone.now() + timedelta(minutes=10),
            updated_at=long_ago,
        )

        def finished() -> bool:
            return Upload.objects.filter(pk__in=[stale.pk, lost.pk], status=Upload.Status.DONE).count() == 2

        _wait_for(finished, 120, "the sweep to re-queue both stale uploads", worker["log"], interval=0.2)
        time.sleep(3)  # a few more sweeps pass over the live lease
        log = worker["log"].read_text(errors="replace")

    assert "requeue_stale_uploads" in log
    live.refresh_from_db()
    assert live.status == Upload.Status.RUNNING and live.claim_token == "task-of-a-live-worker"
    assert live.predictions.count() == 0
    # A message for the same upload under another task id (a duplicate) does not steal the lease either.
    analyse_upload.apply(args=[live.pk])
    live.refresh_from_db()
    assert live.claim_token == "task-of-a-live-worker" and live.predictions.count() == 0
