"""Fixtures shared by every test. Factories live in tests/factories.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings
from django.utils import translation

from portal.celery import app
from portal.infra import embedded_redis
from portal.infra.env import celery_broker_url, unix_socket_path


@pytest.fixture(scope="session", autouse=True)
def redis_server() -> Iterator[str]:
    """The tests' Redis: the one REDIS_URL names, or an embedded one of this test run's own.

    An embedded server gets a socket named after this process, so that two test runs in one
    checkout never share (or stop) each other's Redis.
    """
    if unix_socket_path(settings.REDIS_URL) is None:
        yield settings.REDIS_URL
        return
    socket_path = Path(settings.VAR_DIR) / "redis" / f"test-{os.getpid()}.sock"
    process = embedded_redis.start(socket_path)
    url = f"unix://{socket_path}?db=0"
    overrides = override_settings(
        REDIS_URL=url,
        CACHES={"default": {**settings.CACHES["default"], "LOCATION": url}},
        CELERY_BROKER_URL=celery_broker_url(url),
    )
    overrides.enable()
    app.conf.update(broker_url=celery_broker_url(url))
    yield url
    overrides.disable()
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session", autouse=True)
def collected_static() -> None:
    """Pages render {% static %} through the manifest storage, as in production.

    Collected again when a static file is newer than the manifest: a file added since (a new
    script) would otherwise be missing from it, and every page naming it would fail.
    """
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists() or any(
        source.stat().st_mtime > manifest.stat().st_mtime
        for directory in settings.STATICFILES_DIRS
        for source in Path(directory).rglob("*")
    ):
        call_command("collectstatic", "--noinput", verbosity=0)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings: Any) -> None:
    # The production hasher costs most of a second per password on these machines.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english_outside_requests() -> Iterator[None]:
    """Messages raised outside a request are checked in English.

    Requests choose their own language (LocaleMiddleware), but the middleware leaves it active
    in the thread afterwards; without this, a test would see whatever language the previous
    test's last request used.
    """
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def clean_cache(redis_server: str) -> Iterator[None]:
    """Forget rate-limit counters and heartbeats between tests.

    Deletes only this site's cache keys: FLUSHDB would also wipe the Celery broker's queue
    bindings when both share one Redis database.
    """
    _delete_site_cache_keys()
    yield
    _delete_site_cache_keys()


def raw_redis() -> redis.Redis:
    """A plain client of the tests' Redis, for looking underneath Django's cache."""
    return redis.Redis.from_url(settings.REDIS_URL)


def _delete_site_cache_keys() -> None:
    client = raw_redis()
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
