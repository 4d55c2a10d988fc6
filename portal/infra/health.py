"""Liveness of the site's moving parts, for /healthz and for operators."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connection

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
# The database check's budget; one thread asks, so a hung database ties up one thread only.
DATABASE_CHECK_SECONDS = 1.5
_database_checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="healthz-database")
# Tasks waiting longer than this in the outbox make the site degraded: the broker or the sweep
# is not doing its work.
OUTBOX_MAX_AGE_SECONDS = 300
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
        if self.outbox.startswith("error"):
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
    """``SELECT 1`` within ``DATABASE_CHECK_SECONDS``, asked from a thread of its own, so that a
    database that accepts connections and never answers makes /healthz say so in time instead
    of holding the request (and the load balancer's check) for good."""
    future = _database_checker.submit(_ask_database)
    try:
        return future.result(timeout=DATABASE_CHECK_SECONDS)
    except FuturesTimeout:
        logger.warning("Health: database gave no answer within %s s", DATABASE_CHECK_SECONDS)
        return f"error: no answer within {DATABASE_CHECK_SECONDS} s"


def _ask_database() -> str:
    # What Django does at the start of each request: this thread keeps its connection, so it
    # must drop it when it is broken or too old.
    close_old_connections()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        logger.warning("Health: database unreachable: %s", error)
        return f"error: {_why(error)}"
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
        return f"error: {_why(error)}"
    return OK


def _why(error: BaseException) -> str:
    """The error's kind and the first line of its message (refused? timed out?), shortly."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {message[:160]}" if message else type(error).__name__


def check_cache() -> str:
    """Whether the cache can write to Redis, or this process serves from the fallback table."""
    # A write: a Redis that is full or read-only still answers reads.
    cache.set("health:probe", 1, timeout=10)
    if getattr(cache, "degraded", False):
        return "degraded: Redis unusable, serving from the database table portal_cache_fallback"
    return OK


def check_worker(*, now: float | None = None) -> str:
    if getattr(cache, "degraded", False):
        return "unknown: the heartbeat is kept in Redis, which is unreachable"
    beat = cache.get(HEARTBEAT_CACHE_KEY)
    if not beat:
        # Also right after Redis came back without its data: the next heartbeat is 10 s away.
        return "error: no heartbeat yet (is beat running? is a worker running?)"
    age = (now or time.time()) - float(beat["at"])
    if age > settings.WORKER_HEARTBEAT_MAX_AGE:
        # Beat sends the heartbeat and a worker records it: either may be the one that stopped.
        return f"error: last heartbeat {int(age)} s ago (is beat running? is a worker running?)"
    return OK


def check_outbox() -> str:
    """Whether tasks reach the broker: none waits for long, and none was given up."""
    from portal.infra.task_outbox import outbox_state

    try:
        state = outbox_state()
    except Exception as error:  # the database check says why
        return f"unknown: {type(error).__name__}"
    if state.given_up:
        return f"error: {state.given_up} task(s) given up after failing (see the admin)"
    if not state.waiting:
        return OK
    age = int(state.oldest_seconds or 0)
    waiting = f"{state.waiting} task(s) waiting for the broker, the oldest for {age} s"
    return f"error: {waiting}" if age > OUTBOX_MAX_AGE_SECONDS else waiting


def health_report() -> HealthReport:
    database = check_database()
    return HealthReport(
        database=database,
        cache=check_cache(),
        broker=check_broker(),
        worker=check_worker(),
        outbox=check_outbox() if database == OK else "unknown: database unreachable",
    )
