"""The staff jobs page: who may see it, what it shows, and the retry button."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from artsite import broker
from artsite.celery import app
from gallery.models import Job
from tests.factories import artwork_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_queue():
    app.control.purge()  # this run's own queue (artsite.settings.test)
    yield app.conf.task_default_queue
    app.control.purge()


def test_only_staff_see_the_jobs_page(client, owner):
    client.force_login(owner)
    response = client.get(reverse("jobs"))
    assert response.status_code == 302 and reverse("admin:login") in response.url


def test_jobs_page_shows_progress_eta_failures_and_queue_lengths(admin_client, empty_queue):
    started = timezone.now() - timedelta(minutes=2)
    Job.objects.create(
        kind=Job.Kind.SWITCH,
        status=Job.Status.RUNNING,
        params={"version": "v2"},
        progress=50,
        total=200,
        started_at=started,
        message="embedding beside the active model",
    )
    Job.objects.create(
        kind=Job.Kind.IMPORT, status=Job.Status.FAILED, error="no catalogue.csv at the top", finished_at=timezone.now()
    )
    artwork_create(title="Broken scan", embedding_error="OSError: truncated file")
    app.send_task("recommender.jobs.embed_artwork", args=[0])  # one message waiting (no worker runs)
    page = admin_client.get(reverse("jobs")).content.decode()
    assert "Switch the style model version" in page and "<code>v2</code>" in page
    assert 'value="25"' in page and "50 / 200 (25%)" in page  # progress bar and counts
    assert "0:06:00" in page  # ETA: 2 minutes for 50 → 6 more minutes for the other 150
    assert "no catalogue.csv at the top" in page and "OSError: truncated file" in page
    assert broker.queue_lengths()[empty_queue] == 1
    assert f"<code>{empty_queue}</code>" in page


def test_retry_puts_a_failed_job_back_in_the_queue(admin_client, empty_queue, django_capture_on_commit_callbacks):
    job = Job.objects.create(kind=Job.Kind.EMBED, status=Job.Status.FAILED, error="boom", finished_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("job_retry", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.finished_at is None
    assert broker.queue_lengths()[empty_queue] == 1  # the run_job message, sent after commit


def test_retry_refuses_a_job_that_is_running_fine(admin_client, empty_queue):
    job = Job.objects.create(kind=Job.Kind.EMBED, status=Job.Status.RUNNING, started_at=timezone.now())
    admin_client.post(reverse("job_retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING
    assert broker.queue_lengths()[empty_queue] == 0
