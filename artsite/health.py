"""Health of the site and each dependency, for load balancers, `make status` and Prometheus.

Built on django-health-check: `/health/` runs every check in parallel and answers 200 when all
pass, 500 otherwise (JSON with `?format=json` or `Accept: application/json`, plain text with
`?format=text`, OpenMetrics with `?format=openmetrics`). `/health/live/` checks nothing but the
process itself, for a liveness probe that must not restart web processes when a dependency is down.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheck
from health_check.checks import Cache, Database, Storage
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from redis.asyncio import Redis as AsyncRedis

from artsite.celery import app
from recommender import graph


@dataclasses.dataclass
class Neo4j(HealthCheck):
    """The influence graph answers a round trip (through the app's only Neo4j client)."""

    timeout = datetime.timedelta(seconds=5)

    def run(self) -> None:
        # ping() bypasses the client's 30 s fail-fast window on purpose: the health page must say
        # how Neo4j is now, not how it was at the last failure.
        if not graph.ping():
            raise ServiceUnavailable("Neo4j unreachable")


@dataclasses.dataclass
class Broker(Redis):
    """The Celery broker (Redis) answers PING. Named apart from the cache, which may be elsewhere."""


@dataclasses.dataclass
class Worker(HealthCheck):
    """A Celery worker answers on the control channel and consumes this site's default queue.

    One `inspect active_queues` broadcast (django-health-check's Ping pings, then inspects every
    worker that answered): a worker that answers proves it is alive, and only workers consuming our
    queue count — other sites' or test runs' workers on the same Redis do not.
    """

    timeout: datetime.timedelta = dataclasses.field(default=datetime.timedelta(seconds=2), repr=False)

    def __repr__(self) -> str:
        return f"Worker(queue={self._queue()!r})"

    @staticmethod
    def _queue() -> str:
        return str(app.conf.task_default_queue)

    @property
    def labels(self) -> dict[str, str]:
        return {"check": "Worker", "queue": self._queue()}

    def run(self) -> None:
        queue = self._queue()
        try:
            replies = app.control.inspect(timeout=self.timeout.total_seconds()).active_queues() or {}
        except OSError as exc:
            raise ServiceUnavailable(f"broker unreachable ({exc.__class__.__name__})") from exc
        if not any(q.get("name") == queue for queues in replies.values() for q in queues or []):
            raise ServiceUnavailable(f"no live worker consumes the queue {queue!r}")


def _broker_client() -> AsyncRedis:
    return AsyncRedis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)


def checks() -> list:
    return [
        Database,
        (Cache, {"alias": "default"}),
        (Broker, {"client_factory": _broker_client}),
        Neo4j,
        (Storage, {"alias": "default"}),
        (Worker, {"timeout": datetime.timedelta(seconds=settings.HEALTH_WORKER_PING_TIMEOUT_S)}),
    ]


class HealthView(HealthCheckView):
    """Every dependency: database, cache, broker, Neo4j, storage, a live worker.

    A synchronous view that runs the library's async checks on an event loop of its own, in a
    helper thread: under WSGI (gunicorn) there is no loop to share, and Django's async_to_sync
    refuses to run in a thread that already has one (a test process after Playwright, for one).
    """

    template_name = "ops/health.html"

    @property
    def checks(self):  # type: ignore[override]  # read at request time: tests change settings
        return checks()

    @method_decorator(transaction.non_atomic_requests)
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:  # type: ignore[override]
        response = View.dispatch(self, request, *args, **kwargs)
        patch_vary_headers(response, ["Accept"])
        add_never_cache_headers(response)
        return response

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:  # type: ignore[override]
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, HealthCheckView.get(self, request, *args, **kwargs)).result()


@never_cache
def live(request: HttpRequest) -> HttpResponse:
    """The process is up and serving (no dependency is checked)."""
    return HttpResponse("ok\n", content_type="text/plain")
