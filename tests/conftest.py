"""Fixtures shared by every test. Factories live in tests/factories.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.management import call_command

from portal import embedded_redis
from portal.env import unix_socket_path


@pytest.fixture(scope="session", autouse=True)
def redis_server() -> Iterator[str]:
    """The tests' Redis: the one REDIS_URL names, or an embedded one started for the run."""
    socket_path = unix_socket_path(settings.REDIS_URL)
    process = embedded_redis.start(socket_path) if socket_path else None
    yield settings.REDIS_URL
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session", autouse=True)
def collected_static() -> None:
    """Pages render {% static %} through the manifest storage, as in production."""
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", "--noinput", verbosity=0)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings: Any) -> None:
    # The production hasher costs most of a second per password on these machines.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
