"""The cache never fails a request on Redis (portal/infra/cache.py): while Redis is down, hung,
full or read-only it serves from a table in the database that every process shares, tries Redis
again every few seconds, and recovers."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import redis
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCacheClient

from portal.infra import cache as resilient
from portal.models import CacheFallbackEntry

pytestmark = pytest.mark.django_db


def cache_degraded() -> bool:
    backend = caches["default"]
    assert isinstance(backend, resilient.ResilientRedisCache)
    return backend.degraded


@pytest.fixture
def redis_down(settings) -> None:
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}
    }


@pytest.fixture
def redis_hung(settings) -> Iterator[None]:
    """A server that accepts connections and never answers, as a paused Redis does."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        silent.listen(16)
        port = silent.getsockname()[1]
        settings.CACHES = {
            "default": {
                **settings.CACHES["default"],
                "LOCATION": f"redis://127.0.0.1:{port}/0",
                "OPTIONS": {
                    **settings.CACHES["default"]["OPTIONS"],
                    "socket_timeout": 0.3,
                    "socket_connect_timeout": 0.3,
                },
            }
        }
        yield


@pytest.fixture
def redis_calls(monkeypatch) -> list[str]:
    """Each call that reached Redis's client; every one fails as if Redis were down."""
    calls: list[str] = []

    def refuse(self, key, default):
        calls.append(key)
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(RedisCacheClient, "get", refuse)
    return calls


def test_with_redis_down_the_cache_serves_from_the_fallback_table(redis_down) -> None:
    cache.set("greeting", "こんにちは")
    assert cache.add("counter", 1)
    assert cache.incr("counter") == 2

    assert cache.get("greeting") == "こんにちは"
    assert cache.get_many(["greeting", "counter"]) == {"greeting": "こんにちは", "counter": 2}
    assert cache_degraded()


def test_with_redis_up_the_cache_is_redis(redis_server) -> None:
    cache.set("greeting", "hello")
    assert not cache_degraded()
    assert redis.Redis.from_url(redis_server).keys("*greeting*")


def test_after_one_failure_the_next_calls_do_not_wait_for_redis(redis_calls) -> None:
    for _ in range(3):
        assert cache.get("anything") is None

    assert len(redis_calls) == 1


def test_redis_is_tried_again_after_the_retry_interval_and_the_cache_recovers(
    redis_calls, monkeypatch, caplog
) -> None:
    now = [1000.0]
    monkeypatch.setattr(resilient, "_clock", lambda: now[0])
    cache.get("anything")
    assert cache_degraded()
    monkeypatch.undo()  # Redis answers again
    monkeypatch.setattr(resilient, "_clock", lambda: now[0])

    now[0] += 5.1
    cache.set("after", "recovered")

    assert not cache_degraded()
    assert cache.get("after") == "recovered"
    assert "reachable again after 5.1 s: no longer degraded" in caplog.text


def test_a_hung_redis_costs_one_socket_timeout_and_then_nothing(redis_hung) -> None:
    started = time.monotonic()
    cache.get("first")
    first = time.monotonic() - started

    started = time.monotonic()
    for _ in range(10):
        cache.get("later")
    later = time.monotonic() - started

    assert 0.25 < first < 1.0, first
    assert later < 0.1, later
    assert cache_degraded()


def test_the_outage_is_logged_once_as_an_error_naming_what_degrades(redis_calls, caplog) -> None:
    for _ in range(3):
        cache.get("anything")

    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "unreachable (ConnectionError: Connection refused)" in errors[0].getMessage()
    assert "serving from the database table portal_cache_fallback" in errors[0].getMessage()


def test_what_one_process_stored_during_the_outage_is_seen_by_another(redis_down) -> None:
    """Another process is another backend instance: the fallback is the shared table."""

    cache.add("allauth:used-code", True, timeout=60)
    other = resilient.ResilientRedisCache(
        "redis://127.0.0.1:1/0", {"KEY_PREFIX": caches["default"].key_prefix, "OPTIONS": {}}
    )
    assert other.get("allauth:used-code") is True
    assert not other.add("allauth:used-code", True, timeout=60)
    assert CacheFallbackEntry.objects.exists()


def test_a_redis_that_refuses_writes_is_treated_as_unusable(monkeypatch) -> None:
    def out_of_memory(self, key, value, timeout):
        raise redis.exceptions.OutOfMemoryError("OOM command not allowed")

    monkeypatch.setattr(RedisCacheClient, "set", out_of_memory)
    cache.set("limit", 1)
    assert cache_degraded()
    assert cache.get("limit") == 1
