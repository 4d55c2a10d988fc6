"""Fixtures shared by every test. Factories live in tests/factories.py."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.test.utils import override_settings
from django.utils import translation

from portal.celery import app
from portal.infra import embedded_redis, health, task_outbox
from portal.infra.cache import reset_breakers
from portal.infra.env import celery_broker_url, unix_socket_path

# The SMTP sink (tests/mail_sink.py) is a fixture of every test.
pytest_plugins = ["tests.mail_sink"]


@receiver(connection_created)
def allow_flushing_the_test_database(
    sender: object, connection: BaseDatabaseWrapper, **kwargs: object
) -> None:
    """Let pytest-django empty the ledger's tables after a transactional test (PostgreSQL).

    Their triggers refuse TRUNCATE unless the database is a test database and the session asks
    for this (consent/migrations/0006_ledger_tamper_protection.py says why both).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET consent.allow_test_flush = 'on'")


@pytest.fixture(scope="session", autouse=True)
def health_check_thread_lets_go(django_db_setup: None) -> Iterator[None]:
    """/healthz asks the database from a thread of its own, which keeps its connection: close it
    before pytest-django drops the test database, which PostgreSQL refuses while it is open."""
    yield
    health._database_checker.submit(connections.close_all).result(timeout=10)


@pytest.fixture(scope="session", autouse=True)
def redis_server() -> Iterator[str]:
    """The tests' Redis: the one REDIS_URL names, or an embedded one of this test run's own.

    An embedded server gets a socket named after this process, so that two test runs in one
    checkout never share (or stop) each other's Redis. Parallel test processes (pytest-xdist)
    sharing the Redis REDIS_URL names keep their keys apart by prefix.
    """
    redis_settings: dict[str, Any] = redis_settings_of_test_process(
        os.environ.get("PYTEST_XDIST_WORKER", "")
    )
    process = None
    if unix_socket_path(settings.REDIS_URL) is not None:
        socket_path = Path(settings.VAR_DIR) / "redis" / f"test-{os.getpid()}.sock"
        process = embedded_redis.start(socket_path)
        url = f"unix://{socket_path}?db=0"
        redis_settings["REDIS_URL"] = url
        redis_settings["CACHES"]["default"]["LOCATION"] = url
        redis_settings["CELERY_BROKER_URL"] = celery_broker_url(url)
    overrides = override_settings(**redis_settings)
    overrides.enable()
    app.conf.update(
        broker_url=settings.CELERY_BROKER_URL,
        broker_transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    )
    yield settings.REDIS_URL
    overrides.disable()
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


def redis_settings_of_test_process(xdist_worker: str) -> dict[str, Any]:
    """Cache and broker settings under which this test process's keys are its own.

    ``clean_cache`` deletes every key of the cache prefix and the worker tests purge the
    queues: under pytest-xdist, each worker ("gw0", "gw1", …) gets prefixes of its own.
    """
    cache = {**settings.CACHES["default"]}
    transport_options = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS}
    if xdist_worker:
        cache["KEY_PREFIX"] = f"{cache['KEY_PREFIX']}-{xdist_worker}"
        transport_options["global_keyprefix"] = (
            f"{transport_options.get('global_keyprefix', '')}{xdist_worker}:"
        )
    return {
        "CACHES": {"default": cache},
        "CELERY_BROKER_TRANSPORT_OPTIONS": transport_options,
    }


@pytest.fixture(scope="session", autouse=True)
def collected_static() -> None:
    """Pages render {% static %} through the manifest storage, as in production.

    Collected again when a static file is newer than the manifest: a file added since (a new
    script) would otherwise be missing from it, and every page naming it would fail.
    """
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    Path(settings.VAR_DIR).mkdir(exist_ok=True)
    # Parallel test processes (pytest-xdist) share STATIC_ROOT: one collects while the others
    # wait, so that none reads a manifest another is rewriting.
    with (Path(settings.VAR_DIR) / "collectstatic.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
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


@pytest.fixture
def english_pages(client: Any) -> None:
    """The test client asks for English pages: a test that checks words reads them in English
    (the site's default language is Japanese)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


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
def redis_presumed_up() -> None:
    """Each test starts with the cache and the broker presumed reachable: a test that made one
    unreachable must not leave its process serving from memory for the next tests."""
    reset_breakers()
    task_outbox.reset_broker_breaker()


@pytest.fixture(autouse=True)
def clean_cache(redis_server: str, redis_presumed_up: None) -> Iterator[None]:
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
