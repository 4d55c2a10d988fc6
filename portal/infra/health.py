"""Liveness of the site's moving parts, for /healthz and for operators."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)

HEARTBEAT_CACHE_KEY = "health:worker-heartbeat"
OK = "ok"
# The site serves, but Redis, the broker or the worker is away: background work waits.
DEGRADED = "degraded"
# The database is unreachable: nothing can be served.
DOWN = "down"
# A load balancer polls /healthz every few seconds from every node: one broker connection per
# process in this many seconds is enough to know, and keeps anyone calling /healthz in a loop
# from opening a connection to the broker per request.
BROKER_CHECK_SECONDS = 5.0
_clock = time.monotonic
# The last check in this process: (broker URL, when, result).
_last_broker_check: tuple[str, float, str] | None = None


@dataclass(frozen=True)
class HealthReport:
    database: str
    cache: str
    broker: str
    worker: str
    outbox: str

    @property
    def status(self) -> str:
        if self.database != OK:
            return DOWN
        if any(part != OK for part in (self.cache, self.broker, self.worker)):
            return DEGRADED
        return OK

    @property
    def healthy(self) -> bool:
        return self.status == OK

    def as_dict(self) -> dict[str, str]:
        return {
            "database": self.database,
            "cache": self.cache,
            "broker": self.broker,
            "worker": self.worker,
            "outbox": self.outbox,
        }

    def as_status(self) -> dict[str, str]:
        """What anyone may know: whether the site serves, not which part is down or why."""
        return {"status": self.status}


def record_worker_heartbeat(*, hostname: str) -> None:
    """Called by a worker: remember when a worker last proved it was consuming tasks."""
    cache.set(
        HEARTBEAT_CACHE_KEY,
        {"at": time.time(), "hostname": hostname},
        timeout=settings.WORKER_HEARTBEAT_MAX_AGE * 10,
    )


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        logger.warning("Health: database unreachable: %s", error)
        return f"error: {type(error).__name__}"
    return OK


def check_broker() -> str:
    """The broker's state, checked at most once in BROKER_CHECK_SECONDS per process."""
    global _last_broker_check
    from portal.celery import app

    url = str(app.conf.broker_url)
    now = _clock()
    if _last_broker_check is not None:
        checked_url, checked_at, result = _last_broker_check
        if checked_url == url and now - checked_at < BROKER_CHECK_SECONDS:
            return result
    result = _connect_to_broker()
    _last_broker_check = (url, now, result)
    return result


def forget_broker_check() -> None:
    global _last_broker_check
    _last_broker_check = None


def _connect_to_broker() -> str:
    from portal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=settings.REDIS_TIMEOUT)  # type: ignore[arg-type]
    except Exception as error:
        logger.warning("Health: broker unreachable: %s", error)
        return f"error: {type(error).__name__}"
    return OK


def check_cache() -> str:
    """Whether the cache reaches Redis, or this process serves from its own memory."""
    cache.get("health:probe")
    if getattr(cache, "degraded", False):
        return "degraded: Redis unreachable, serving from this process's memory"
    return OK


def check_worker(*, now: float | None = None) -> str:
    if getattr(cache, "degraded", False):
        return "unknown: the heartbeat is kept in Redis, which is unreachable"
    beat = cache.get(HEARTBEAT_CACHE_KEY)
    if not beat:
        return "error: no heartbeat received from any worker"
    age = (now or time.time()) - float(beat["at"])
    if age > settings.WORKER_HEARTBEAT_MAX_AGE:
        return f"error: last heartbeat {int(age)} s ago"
    return OK


def check_outbox() -> str:
    from portal.infra.task_outbox import waiting_tasks

    try:
        count, oldest_age = waiting_tasks()
    except Exception as error:  # the database check says why
        return f"unknown: {type(error).__name__}"
    if not count:
        return OK
    return f"{count} task(s) waiting for the broker, the oldest for {int(oldest_age or 0)} s"


def health_report() -> HealthReport:
    database = check_database()
    return HealthReport(
        database=database,
        cache=check_cache(),
        broker=check_broker(),
        worker=check_worker(),
        outbox=check_outbox() if database == OK else "unknown: database unreachable",
    )
