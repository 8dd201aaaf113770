"""Prometheus metrics: request latency (middleware), queue lengths and job counts (read at scrape
time), Celery task durations (signals, in the worker process).

django-prometheus would give the request part, but its releases pin Django < 6.1; the few metrics
here are plain prometheus_client. The web's `/metrics` serves request latency plus the collectors
below; each worker serves its task durations on its own port (ARTSITE_WORKER_METRICS_PORT), since
a worker's counters live in the worker's memory. Under gunicorn with several processes set
PROMETHEUS_MULTIPROC_DIR so the processes' counters are summed (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator

from celery.signals import task_postrun, task_prerun, worker_process_init
from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from artsite import broker
from gallery.models import Artwork, Job, Upload

logger = logging.getLogger(__name__)

REQUEST_LATENCY = Histogram(
    "artsite_http_request_duration_seconds",
    "Time to answer an HTTP request, by route and status class",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TASK_DURATION = Histogram(
    "artsite_celery_task_duration_seconds",
    "Run time of a Celery task, by task name and outcome",
    ["task", "state"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200),
)


class RequestMetricsMiddleware:
    """Observe every request's latency, labelled by URL pattern (not path: bounded label values)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.route or match.view_name) if match else "unmatched"
        REQUEST_LATENCY.labels(request.method, route, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response


class OperationsCollector(Collector):
    """Queue lengths (broker Redis) and jobs/uploads/artworks by state (PostgreSQL), read per scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        queued = GaugeMetricFamily(
            "artsite_celery_queue_length", "Messages waiting in a Celery queue", labels=["queue"]
        )
        unacked = GaugeMetricFamily("artsite_celery_unacked", "Messages held by workers, not yet acknowledged")
        try:
            for queue, length in broker.queue_lengths().items():
                queued.add_metric([queue], length)
            unacked.add_metric([], broker.unacked_count())
        except broker.BrokerUnavailable:
            logger.warning("metrics: broker unavailable; queue lengths left out of this scrape")
        yield queued
        yield unacked

        jobs = GaugeMetricFamily("artsite_jobs", "Background jobs by kind and status", labels=["kind", "status"])
        for kind, status, count in _counts(Job, "kind", "status"):
            jobs.add_metric([kind, status], count)
        yield jobs
        uploads = GaugeMetricFamily("artsite_uploads", "Uploads by status", labels=["status"])
        for status, count in _counts(Upload, "status"):
            uploads.add_metric([status], count)
        yield uploads
        missing = GaugeMetricFamily("artsite_artworks_without_embedding", "Catalogue works search cannot find yet")
        missing.add_metric([], Artwork.objects.filter(embedding__isnull=True).count())
        yield missing


def _counts(model, *fields: str) -> list[tuple]:
    return [(*(row[f] for f in fields), row["n"]) for row in model.objects.values(*fields).annotate(n=Count("id"))]


_collector_registered = False


def _registry() -> CollectorRegistry:
    global _collector_registered
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(OperationsCollector())
        return registry
    if not _collector_registered:
        REGISTRY.register(OperationsCollector())
        _collector_registered = True
    return REGISTRY


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus scrape endpoint. With ARTSITE_METRICS_TOKEN set, a matching bearer token is required."""
    token = settings.METRICS_TOKEN
    if token and request.headers.get("Authorization") != f"Bearer {token}":
        return HttpResponseForbidden("metrics need the bearer token\n", content_type="text/plain")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


# --- Celery task durations (connected when a worker imports recommender.jobs) --------------------
_task_started: dict[str, float] = {}


def _on_task_prerun(task_id: str | None = None, **_) -> None:
    if task_id:
        _task_started[task_id] = time.perf_counter()


def _on_task_postrun(task_id: str | None = None, task=None, state: str | None = None, **_) -> None:
    started = _task_started.pop(task_id or "", None)
    if started is not None and task is not None:
        TASK_DURATION.labels(task.name, state or "UNKNOWN").observe(time.perf_counter() - started)


def _on_worker_process_init(**_) -> None:
    port = os.environ.get("ARTSITE_WORKER_METRICS_PORT")
    if port:
        start_http_server(int(port))
        logger.info("worker metrics on :%s/metrics", port)


def connect_task_signals() -> None:
    task_prerun.connect(_on_task_prerun, weak=False, dispatch_uid="artsite-metrics-prerun")
    task_postrun.connect(_on_task_postrun, weak=False, dispatch_uid="artsite-metrics-postrun")
    worker_process_init.connect(_on_worker_process_init, weak=False, dispatch_uid="artsite-metrics-port")
