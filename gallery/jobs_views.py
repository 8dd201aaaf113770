"""The staff jobs page: queues, running jobs with progress and ETA, failures with a retry button.

Flower shows Celery's raw view; this page shows what a curator needs and works with several workers
on other hosts (it reads the broker's Redis and the Job rows, nothing local).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from artsite import broker

from . import jobs
from .catalogue import artworks_embed_again
from .models import Artwork, StyleModelVersion

REFRESH_SECONDS = 10


@staff_member_required
def jobs_page(request: HttpRequest) -> HttpResponse:
    try:
        queues, unacked, broker_error = broker.queue_lengths(), broker.unacked_count(), ""
    except broker.BrokerUnavailable as exc:
        queues, unacked, broker_error = {}, None, f"The broker (Redis) does not answer: {exc.__class__.__name__}"
    active = list(jobs.jobs_active())
    for job in active:
        job.eta = jobs.job_eta(job)
        job.stalled = jobs.job_is_stalled(job)
    context = {
        "queues": queues,
        "unacked": unacked,
        "broker_error": broker_error,
        "uploads": jobs.uploads_in_flight(),
        "active_jobs": active,
        "failed_jobs": jobs.jobs_failed_recent(),
        "failed_artworks": jobs.artworks_embedding_failed(),
        "failed_uploads": jobs.uploads_failed_recent(),
        "finished_jobs": jobs.jobs_finished_recent(),
        "versions": StyleModelVersion.objects.all()[:10],
        "refresh": REFRESH_SECONDS,
    }
    return render(request, "ops/jobs.html", context)


@staff_member_required
@require_POST
def job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    if jobs.job_retry(job_id=job_id):
        messages.success(request, f"Job #{job_id} is queued again; it resumes where it stopped.")
    else:
        messages.error(request, f"Job #{job_id} is neither failed nor stalled; nothing to retry.")
    return HttpResponseRedirect(reverse("jobs"))


@staff_member_required
@require_POST
def artwork_embed_retry(request: HttpRequest, artwork_id: int) -> HttpResponse:
    artwork = get_object_or_404(Artwork.objects.only("id", "title"), pk=artwork_id)
    artworks_embed_again(artwork_ids=[artwork.pk])
    messages.success(request, f"“{artwork.display_title}” is queued for embedding.")
    return HttpResponseRedirect(reverse("jobs"))
