"""Health endpoint and Prometheus metrics against the real PostgreSQL, Redis, Neo4j and a real worker."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY

from artsite import broker
from artsite.celery import app
from recommender.jobs import embed_artwork

CHECKS = {"Database", "Cache", "Broker", "Neo4j", "Storage", "Worker"}


def _by_check(payload: dict[str, str]) -> dict[str, str]:
    return {key.split("(")[0]: value for key, value in payload.items()}


@pytest.mark.django_db(transaction=True)
def test_health_is_ok_with_every_dependency_up_and_a_worker(client, worker):
    # The fixture starts the worker without Celery's ping check: wait until it answers control
    # messages for this run's queue (a loaded machine takes a moment), then ask the health endpoint.
    queue, deadline = app.conf.task_default_queue, time.monotonic() + 30
    while time.monotonic() < deadline:
        replies = app.control.inspect(timeout=1).active_queues() or {}
        if any(q["name"] == queue for queues in replies.values() for q in queues):
            break
    response = client.get(reverse("health"), {"format": "json"})
    results = _by_check(response.json())
    assert set(results) == CHECKS
    assert all(value == "OK" for value in results.values()), json.dumps(results)
    assert response.status_code == 200


@pytest.mark.django_db
def test_health_fails_without_a_worker_and_says_which_check(client, settings):
    settings.HEALTH_WORKER_PING_TIMEOUT_S = 1
    response = client.get(reverse("health"), {"format": "json"})
    results = _by_check(response.json())
    assert response.status_code == 500  # load balancers take the host out
    assert "no live worker consumes the queue" in results["Worker"]
    assert {name for name, value in results.items() if value == "OK"} == CHECKS - {"Worker"}


@pytest.mark.django_db
def test_health_reports_neo4j_down(client, settings, neo4j_down):
    settings.HEALTH_WORKER_PING_TIMEOUT_S = 1
    results = _by_check(client.get(reverse("health"), {"format": "json"}).json())
    assert "Neo4j unreachable" in results["Neo4j"]
    assert results["Database"] == results["Broker"] == results["Storage"] == "OK"


@pytest.mark.django_db
def test_health_page_renders_for_people(client, settings):
    settings.HEALTH_WORKER_PING_TIMEOUT_S = 1
    response = client.get(reverse("health"), HTTP_ACCEPT="text/html")
    page = response.content.decode()
    assert response.status_code == 500
    assert "System status" in page and "Neo4j()" in page and "failing" in page


def test_liveness_checks_nothing_but_the_process(client):
    response = client.get(reverse("health_live"))
    assert response.status_code == 200 and response.content == b"ok\n"


@pytest.mark.django_db
def test_metrics_report_request_latency_and_real_queue_length(client):
    client.get(reverse("health_live"))
    queue = app.conf.task_default_queue
    app.control.purge()  # this run's own queue only (artsite.settings.test)
    try:
        embed_artwork.delay(0)  # no worker: the message waits in Redis
        embed_artwork.delay(0)
        assert broker.queue_lengths()[queue] == 2
        body = client.get(reverse("metrics")).content.decode()
    finally:
        app.control.purge()
    assert f'artsite_celery_queue_length{{queue="{queue}"}} 2.0' in body
    assert 'artsite_http_request_duration_seconds_count{method="GET",route="health/live/",status="2xx"}' in body
    assert "artsite_jobs" in body and "artsite_artworks_without_embedding 0.0" in body


@pytest.mark.django_db(transaction=True)
def test_task_durations_are_observed_in_the_worker(worker):
    labels = {"task": embed_artwork.name, "state": "SUCCESS"}
    before = REGISTRY.get_sample_value("artsite_celery_task_duration_seconds_count", labels) or 0
    # An id that does not exist: the task answers "deleted" at once, a real run through the worker.
    embed_artwork.delay(10**9)  # no result backend: wait on the metric instead

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if (REGISTRY.get_sample_value("artsite_celery_task_duration_seconds_count", labels) or 0) > before:
            break
        time.sleep(0.1)
    assert REGISTRY.get_sample_value("artsite_celery_task_duration_seconds_count", labels) == before + 1


@pytest.mark.django_db
def test_metrics_token_when_configured(client, settings):
    settings.METRICS_TOKEN = "s3cret"
    assert client.get(reverse("metrics")).status_code == 403
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
