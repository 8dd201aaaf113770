"""The upload throttle, failing open: an unreachable cache (Redis) must not refuse or break uploads."""

from __future__ import annotations

import logging

import redis
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class UploadRateThrottle(ScopedRateThrottle):
    """ScopedRateThrottle (scope from the view) that lets requests through while its cache is down.

    Throttling protects the worker from floods; refusing every upload during a Redis outage would
    do more harm than a few unthrottled minutes, which the log line makes visible.
    """

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            allowed = super().allow_request(request, view)
        except (redis.exceptions.RedisError, OSError) as exc:  # a cache that does not fail open itself
            logger.warning("upload throttle skipped: the cache is unreachable (%s)", exc)
            return True
        if not getattr(self.cache, "is_up", lambda: True)():
            # artsite.cache.FailOpenRedisCache answered a miss because Redis is down: nothing was counted.
            logger.warning("upload throttle skipped: the cache (Redis) is unreachable")
            return True
        return allowed
