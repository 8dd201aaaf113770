"""The one client for the Celery broker's Redis, for what Celery does not tell: queue lengths.

Celery's Redis transport keeps each queue as a Redis list named after the queue (plus one list per
priority step) and messages that workers hold but have not acknowledged (acks_late) in the hash
`unacked`. Created lazily from CELERY_BROKER_URL, with short timeouts: a page or a scrape must not
hang on a broker outage.
"""

from __future__ import annotations

import threading

import redis
from django.conf import settings

# kombu's Redis transport: priority steps 0, 3, 6, 9; step 0 is the plain queue name.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)
_client: redis.Redis | None = None
_lock = threading.Lock()

BrokerUnavailable = (redis.RedisError, OSError)


def client() -> redis.Redis:
    global _client
    with _lock:
        if _client is None:
            _client = redis.Redis.from_url(
                settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
            )
        return _client


def close() -> None:
    global _client
    with _lock:
        if _client is not None:
            _client.close()
            _client = None


def known_queues() -> list[str]:
    """The default queue plus any named in CELERY_TASK_ROUTES."""
    names = [getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")]
    for route in (getattr(settings, "CELERY_TASK_ROUTES", None) or {}).values():
        queue = route.get("queue") if isinstance(route, dict) else None
        if queue and queue not in names:
            names.append(queue)
    return names


def queue_lengths(queues: list[str] | None = None) -> dict[str, int]:
    """Messages waiting in each queue (all priority steps). Raises BrokerUnavailable."""
    queues = queues or known_queues()
    pipe = client().pipeline()
    for queue in queues:
        for step in _PRIORITY_STEPS:
            pipe.llen(queue if step == 0 else f"{queue}{_PRIORITY_SEPARATOR}{step}")
    counts = pipe.execute()
    n = len(_PRIORITY_STEPS)
    return {queue: sum(counts[i * n : (i + 1) * n]) for i, queue in enumerate(queues)}


def unacked_count() -> int:
    """Messages delivered to a worker and not yet acknowledged (running, or lost with a dead worker
    until the visibility timeout returns them to their queue)."""
    return int(client().hlen("unacked"))
