"""Status requests that wait for the upload to move (`?wait=`, gallery.upload_events): they answer the
moment another process's committed write changes the row (the trigger's NOTIFY), not before and not
after `wait`, for the owner only, on the page's endpoint and the API's. Real PostgreSQL; the writer is
another thread with its own connection, as the worker is."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.db import connection, connections
from django.urls import reverse
from rest_framework.test import APIClient

from gallery import upload_events
from gallery.models import Upload
from tests.factories import token_client, upload_create

pytestmark = pytest.mark.django_db(transaction=True)  # LISTEN starts at commit: no wrapping transaction

UPLOADS = "/api/uploads/"


@pytest.fixture
def later() -> Iterator[Callable[..., None]]:
    """later(seconds, **fields): another thread (its own database connection, like the worker) updates
    the upload row after `seconds` and commits."""
    threads: list[threading.Thread] = []

    def schedule(seconds: float, upload_id: int, **fields: object) -> None:
        def write() -> None:
            time.sleep(seconds)
            try:
                Upload.objects.filter(pk=upload_id).update(**fields)
            finally:
                connections.close_all()

        thread = threading.Thread(target=write)
        thread.start()
        threads.append(thread)

    yield schedule
    for thread in threads:
        thread.join(10)


def _timed(get: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    response = get()
    return response, time.monotonic() - started


def test_api_answers_when_the_upload_finishes_not_before(owner, later) -> None:
    upload = upload_create(owner=owner, status=Upload.Status.RUNNING, stage=Upload.Stage.CLASSIFYING, progress=10)
    api = token_client(owner)
    # A change that does not finish it (progress 60) wakes the request, which reads and goes on waiting.
    later(0.3, upload.pk, stage=Upload.Stage.MATCHING, progress=60)
    later(0.8, upload.pk, status=Upload.Status.DONE, stage=Upload.Stage.DONE, progress=100)

    response, took = _timed(lambda: api.get(f"{UPLOADS}{upload.pk}/status/?wait=10"))

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["progress"]) == ("done", 100)
    assert 0.7 < took < 5


def test_with_progress_it_answers_at_the_next_step(owner, later) -> None:
    upload = upload_create(owner=owner, status=Upload.Status.RUNNING, stage=Upload.Stage.CLASSIFYING, progress=10)
    later(0.3, upload.pk, stage=Upload.Stage.MATCHING, progress=60)

    response, took = _timed(lambda: token_client(owner).get(f"{UPLOADS}{upload.pk}/status/?wait=10&progress=10"))

    assert (response.json()["stage"], response.json()["progress"]) == ("matching", 60)
    assert 0.2 < took < 5
    # Already past what the client saw: at once, without waiting.
    response, took = _timed(lambda: token_client(owner).get(f"{UPLOADS}{upload.pk}/status/?wait=10&progress=10"))
    assert response.json()["progress"] == 60 and took < 1


def test_nothing_changes_it_answers_when_wait_runs_out(owner) -> None:
    upload = upload_create(owner=owner)
    response, took = _timed(lambda: token_client(owner).get(f"{UPLOADS}{upload.pk}/status/?wait=0.6"))
    assert response.status_code == 200 and response.json()["status"] == "queued"
    assert 0.55 < took < 3
    # The connection outlives the request: it is listening to nothing afterwards.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_listening_channels()")
        assert cursor.fetchone()[0] == 0


def test_a_finished_upload_answers_at_once(owner) -> None:
    upload = upload_create(owner=owner, status=Upload.Status.DONE, stage=Upload.Stage.DONE, progress=100)
    response, took = _timed(lambda: token_client(owner).get(f"{UPLOADS}{upload.pk}/status/?wait=20"))
    assert response.json()["status"] == "done" and took < 1


def test_someone_elses_upload_is_404_at_once_and_a_deleted_one_wakes_the_wait(owner, other_user, later) -> None:
    upload = upload_create(owner=owner)
    response, took = _timed(lambda: token_client(other_user).get(f"{UPLOADS}{upload.pk}/status/?wait=10"))
    assert response.status_code == 404 and took < 1
    assert APIClient().get(f"{UPLOADS}{upload.pk}/status/?wait=10").status_code == 401

    def delete() -> None:
        time.sleep(0.3)
        try:
            Upload.objects.filter(pk=upload.pk).delete()
        finally:
            connections.close_all()

    thread = threading.Thread(target=delete)
    thread.start()
    response, took = _timed(lambda: token_client(owner).get(f"{UPLOADS}{upload.pk}/status/?wait=10"))
    thread.join(10)
    assert response.status_code == 404 and 0.2 < took < 5


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("wait=soon", "wait", "number of seconds"),
        ("wait=-1", "wait", "between 0 and 20"),
        ("wait=600", "wait", "between 0 and 20"),
        ("wait=nan", "wait", "between 0 and 20"),
        ("wait=5&progress=half", "progress", "whole number"),
        ("wait=5&progress=101", "progress", "whole number"),
    ],
)
def test_bad_wait_or_progress_is_400_with_words(owner, query, field, words) -> None:
    upload = upload_create(owner=owner)
    api = token_client(owner).get(f"{UPLOADS}{upload.pk}/status/?{query}")
    assert api.status_code == 400 and words in api.json()[field][0]
    page_client = _signed_in(owner)
    page = page_client.get(reverse("gallery:upload_status", args=[upload.pk]) + f"?{query}")
    assert page.status_code == 400 and words in page.json()[field][0]


def test_the_page_endpoint_waits_too(owner, later) -> None:
    upload = upload_create(owner=owner, status=Upload.Status.RUNNING, stage=Upload.Stage.CLASSIFYING, progress=10)
    later(0.3, upload.pk, status=Upload.Status.FAILED, stage=Upload.Stage.FAILED, error="The image was unreadable.")
    url = reverse("gallery:upload_status", args=[upload.pk]) + "?wait=10&progress=10"

    response, took = _timed(lambda: _signed_in(owner).get(url))

    assert response.json()["finished"] is True and response.json()["error"] == "The image was unreadable."
    assert 0.2 < took < 5


def test_beyond_the_waiting_slots_a_request_answers_at_once(owner, settings, monkeypatch) -> None:
    """Each waiter holds a web thread: past settings.UPLOAD_WAIT_MAX_PER_PROCESS, a plain poll."""
    settings.UPLOAD_WAIT_MAX_PER_PROCESS = 1
    monkeypatch.setattr(upload_events, "_slots", None)  # made from the setting on first use
    upload = upload_create(owner=owner)
    waiting = threading.Thread(
        target=lambda: (token_client(owner).get(f"{UPLOADS}{upload.pk}/status/?wait=1.5"), connections.close_all())
    )
    waiting.start()
    time.sleep(0.4)  # the first request holds the only slot
    response, took = _timed(lambda: token_client(owner).get(f"{UPLOADS}{upload.pk}/status/?wait=10"))
    waiting.join(10)
    assert response.status_code == 200 and took < 0.5
    # The slot is given back: the next request waits again.
    response, took = _timed(lambda: token_client(owner).get(f"{UPLOADS}{upload.pk}/status/?wait=0.5"))
    assert took > 0.45


def _signed_in(user) -> object:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_upload_itself_waits_for_its_results(owner, later) -> None:
    """Right after sending an upload, one request (`GET /api/uploads/{id}/?wait=`) gives its results."""
    upload = upload_create(owner=owner, status=Upload.Status.RUNNING, stage=Upload.Stage.CLASSIFYING, progress=10)
    later(0.3, upload.pk, stage=Upload.Stage.MATCHING, progress=60)  # not finished: it goes on waiting
    later(0.7, upload.pk, status=Upload.Status.DONE, stage=Upload.Stage.DONE, progress=100)

    response, took = _timed(lambda: token_client(owner).get(f"{UPLOADS}{upload.pk}/?wait=10"))

    assert response.status_code == 200 and response.json()["status"] == "done"
    assert "matches" in response.json() and 0.6 < took < 5
    assert token_client(owner).get(f"{UPLOADS}{upload.pk}/?wait=21").json()["wait"] == [
        "`wait` must be between 0 and 20 seconds."
    ]
    response, took = _timed(lambda: token_client(other_user_of(owner)).get(f"{UPLOADS}{upload.pk}/?wait=10"))
    assert response.status_code == 404 and took < 1


def other_user_of(owner):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(f"not-{owner.username}", password="another-pass-123")
