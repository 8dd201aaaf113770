"""A Redis cache that fails open: while Redis is unreachable, reads miss and writes are dropped.

The cache only holds what can be rebuilt (rendered results, throttle counters), so a Redis outage
must cost speed, never a 500. After one failed call the cache stays off for `RETRY_AFTER_S` seconds,
so requests do not each wait for a connection attempt; one warning is logged per outage.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_AFTER_S = 10.0
_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class FailOpenRedisCache(RedisCache):
    _down_until = 0.0  # per process: every alias pointing at the same Redis shares the outage
    _lock = threading.Lock()

    def is_up(self) -> bool:
        """False while the cache is off after a failure (callers may say so, like the upload throttle)."""
        return time.monotonic() >= FailOpenRedisCache._down_until

    def _safely(self, call: Callable[[], T], fallback: T) -> T:
        if not self.is_up():
            return fallback
        try:
            return call()
        except _ERRORS as exc:
            with FailOpenRedisCache._lock:
                first = self.is_up()
                FailOpenRedisCache._down_until = time.monotonic() + RETRY_AFTER_S
            if first:
                logger.warning("cache unreachable (%s); serving without it, retrying in %.0f s", exc, RETRY_AFTER_S)
            return fallback

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._safely(lambda: super(FailOpenRedisCache, self).get(key, default, version), default)

    def get_many(self, keys: Any, version: int | None = None) -> dict:
        return self._safely(lambda: super(FailOpenRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._safely(lambda: super(FailOpenRedisCache, self).has_key(key, version), False)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._safely(lambda: super(FailOpenRedisCache, self).set(key, value, timeout, version), None)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._safely(lambda: super(FailOpenRedisCache, self).add(key, value, timeout, version), False)

    def set_many(self, data: dict, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list:
        return self._safely(lambda: super(FailOpenRedisCache, self).set_many(data, timeout, version), list(data))

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._safely(lambda: super(FailOpenRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._safely(lambda: super(FailOpenRedisCache, self).delete(key, version), False)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._safely(lambda: super(FailOpenRedisCache, self).delete_many(keys, version), None)
