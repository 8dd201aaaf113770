"""Real processes for the scale-out tests: the web process on the S3-compatible server (moto's, from
tests/s3.py via the `s3_endpoint` and `s3_bucket` fixtures) and Celery workers started as
subprocesses with their own media folders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.processes import child_pids
from tests.s3 import STORAGE_KEYS

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], object], timeout: float, what: str, log: Path | None = None) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{tail}")


@pytest.fixture
def web_on_s3(settings, s3_endpoint: str, s3_bucket: str, tmp_path: Path) -> dict[str, str]:
    """This (web) process stores media in the bucket; its local media folder is its own, empty one."""
    settings.MEDIA_ROOT = tmp_path / "web-media"
    settings.MEDIA_ROOT.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": s3_bucket,
                "endpoint_url": s3_endpoint,
                **STORAGE_KEYS,
            },
        },
    }
    return {"OPS_S3_ENDPOINT": s3_endpoint, "OPS_S3_BUCKET": s3_bucket}


@contextmanager
def worker_process(
    tmp_path: Path, name: str, *, env: dict[str, str] | None = None, beat: bool = False, ready_timeout: float = 180
) -> Iterator[dict]:
    """`celery worker --pool=prefork --concurrency=1` as a subprocess on this run's queue and database
    (`beat=True`: with the periodic stale-upload sweep inside, as on the one production host that runs it)."""
    log = tmp_path / f"{name}.log"
    media = tmp_path / f"{name}-media"
    media.mkdir(exist_ok=True)
    command = [
        sys.executable, "-m", "celery", "-A", "artsite", "worker", "--pool=prefork", "--concurrency=1",
        "-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "-n", f"{name}-{uuid.uuid4().hex[:6]}@%h",
        "--without-mingle", "--without-gossip", "-l", "info", f"--logfile={log}",
    ]  # fmt: skip
    if beat:
        command += ["-B", f"--schedule={tmp_path / f'{name}-beat-schedule'}"]
    process_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.ops.worker_settings",
        "OPS_WORKER_DB_NAME": connection.settings_dict["NAME"],
        "OPS_WORKER_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "OPS_WORKER_NEO4J_LABEL": settings.NEO4J_ARTIST_LABEL,
        "OPS_WORKER_MEDIA_ROOT": str(media),
        "ARTSITE_STYLE_MODEL_DIR": str(settings.STYLE_MODEL_DIR),
        **(env or {}),
    }
    worker = subprocess.Popen(command, cwd=ROOT, env=process_env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for(
            lambda: worker.poll() is None and log.exists() and " ready." in log.read_text(errors="replace"),
            ready_timeout,
            f"worker {name} to be ready",
            log,
        )
        yield {"process": worker, "pid": worker.pid, "log": log, "media": media}
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for child in child_pids(worker.pid):
                    os.kill(child, signal.SIGKILL)
                worker.kill()
                worker.wait(timeout=10)


def kill_worker(worker: dict) -> None:
    """SIGKILL the worker and its pool child at once, as a host that loses power."""
    for child in child_pids(worker["pid"]):
        os.kill(child, signal.SIGKILL)
    worker["process"].kill()
    worker["process"].wait(timeout=10)
