"""The cache: Redis, and a table in the database while Redis cannot be used.

Nothing durable lives in the cache (sessions are in the database), so when Redis is down, hung,
full or read-only the site keeps serving from the fallback table ``portal_cache_fallback``
instead of failing every request that touches the cache. The table is shared by every process,
so allauth's rate limits and its record of used one-time codes keep holding across processes
while Redis is away. What the fallback held is not carried back into Redis when it returns: a
counter starts again, and a code used during the outage is refused for the rest of its
30-second window only while the outage lasts.

A breaker keeps requests from waiting on a dead Redis: after one failure a process uses the
table and tries Redis again only once every ``CACHE_RETRY_SECONDS``, so at most one request per
process and interval pays the socket timeout (``REDIS_TIMEOUT``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

logger = logging.getLogger(__name__)

# What a client sees when Redis is down (refused, reset), hung (timed out), or answers but
# refuses (out of memory, a read-only replica after a failover, loading, busy).
UNREACHABLE = (redis.RedisError, OSError)
FALLBACK_TABLE = "portal_cache_fallback"


class Breaker:
    """Whether to try Redis now; one per Redis server and process, shared by all threads."""

    def __init__(
        self, name: str, *, consequence: str, retry_seconds: float, clock: Callable[[], float]
    ) -> None:
        self.name = name
        self.consequence = consequence
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0

    @property
    def is_open(self) -> bool:
        return self._down_since is not None

    def should_try(self) -> bool:
        """True when closed, and for one caller per interval while open (the probe)."""
        if self._down_since is None:
            return True
        with self._lock:
            now = self._clock()
            if now < self._retry_at:
                return False
            # Everyone else keeps serving from memory while this caller probes.
            self._retry_at = now + self.retry_seconds
            return True

    def failed(self, error: BaseException) -> None:
        with self._lock:
            now = self._clock()
            self._retry_at = now + self.retry_seconds
            if self._down_since is not None:
                return
            self._down_since = now
        logger.error(
            "%s unreachable (%s: %s): degraded, %s; trying again every %s s",
            self.name,
            type(error).__name__,
            error,
            self.consequence,
            self.retry_seconds,
        )

    def reset(self) -> None:
        with self._lock:
            self._down_since = None
            self._retry_at = 0.0

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is None:
                return
            outage = self._clock() - self._down_since
            self._down_since = None
        logger.warning("%s reachable again after %.1f s: no longer degraded", self.name, outage)


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()
_clock = time.monotonic


def breaker_for(location: str, *, retry_seconds: float) -> Breaker:
    with _breakers_lock:
        if location not in _breakers:
            _breakers[location] = Breaker(
                f"Redis cache at {location}",
                consequence="serving from the database table " + FALLBACK_TABLE,
                retry_seconds=retry_seconds,
                clock=lambda: _clock(),
            )
        return _breakers[location]


def reset_breakers() -> None:
    """Presume every Redis up again (tests start each case so)."""
    with _breakers_lock:
        for breaker in _breakers.values():
            breaker.reset()


class _ResilientClient:
    """Django's Redis cache client, falling back to the database cache while Redis fails.

    Keys arrive here already prefixed and versioned, so the fallback keeps them as they are.
    """

    def __init__(
        self, primary: RedisCacheClient, fallback: DatabaseCache, breaker: Breaker
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._breaker = breaker

    def _call(self, method: str, *args: Any) -> Any:
        if self._breaker.should_try():
            try:
                result = getattr(self._primary, method)(*args)
            except UNREACHABLE as error:
                self._breaker.failed(error)
            else:
                self._breaker.succeeded()
                return result
        return getattr(self._fallback, method)(*args)

    def add(self, key: str, value: Any, timeout: int | None) -> bool:
        return bool(self._call("add", key, value, timeout))

    def get(self, key: str, default: Any) -> Any:
        return self._call("get", key, default)

    def set(self, key: str, value: Any, timeout: int | None) -> None:
        self._call("set", key, value, timeout)

    def touch(self, key: str, timeout: int | None) -> bool:
        return bool(self._call("touch", key, timeout))

    def delete(self, key: str) -> bool:
        return bool(self._call("delete", key))

    def get_many(self, keys: Any) -> dict[str, Any]:
        return dict(self._call("get_many", list(keys)))

    def has_key(self, key: str) -> bool:
        return bool(self._call("has_key", key))

    def incr(self, key: str, delta: int) -> int:
        return int(self._call("incr", key, delta))

    def set_many(self, data: dict[str, Any], timeout: int | None) -> None:
        self._call("set_many", data, timeout)

    def delete_many(self, keys: list[str]) -> None:
        self._call("delete_many", keys)

    def clear(self) -> bool:
        # Only the fallback table: Redis's FLUSHDB would also empty the broker's queues when
        # they share a database.
        self._fallback.clear()
        return True


def _key_as_given(key: str, key_prefix: str, version: int) -> str:
    return key


class ResilientRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` that never fails a request on Redis.

    ``OPTIONS`` are Django's (passed to redis-py's connection pool: set ``socket_timeout`` and
    ``socket_connect_timeout``), plus ``retry_seconds``: how long to serve from memory before
    trying Redis again.
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        self._retry_seconds = float(options.pop("retry_seconds", 5.0))
        self._location = server
        super().__init__(server, {**params, "OPTIONS": options})

    @cached_property
    def _cache(self) -> _ResilientClient:  # type: ignore[override]
        fallback = DatabaseCache(
            FALLBACK_TABLE,
            {
                "KEY_FUNCTION": _key_as_given,
                "TIMEOUT": self.default_timeout,
                "OPTIONS": {"MAX_ENTRIES": 200_000, "CULL_FREQUENCY": 4},
            },
        )
        return _ResilientClient(
            RedisCacheClient(self._servers, **self._options),  # type: ignore[attr-defined]
            fallback,
            breaker_for(self._location, retry_seconds=self._retry_seconds),
        )

    @property
    def degraded(self) -> bool:
        """Whether this process serves from the fallback table because Redis failed."""
        return breaker_for(self._location, retry_seconds=self._retry_seconds).is_open
