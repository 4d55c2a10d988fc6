"""Tasks reach the broker through the database, so that none is lost while Redis is away.

``enqueue_on_commit(task, **kwargs)`` writes the task into ``OutboxTask`` in the caller's
transaction and hands it to the broker once that transaction commits. When the broker cannot
take it (Redis down or hung), the row stays, the request goes on after at most ``REDIS_TIMEOUT``,
and the worker's ``portal.send_outbox_tasks`` (beat, every 15 s) sends it when Redis is back.
After one failure a process stops trying the broker for ``BROKER_RETRY_SECONDS``: residents'
requests do not each wait for a dead broker.

A task may therefore run twice (sent, then the row's deletion failed): tasks are idempotent
anyway, because the worker acknowledges them late (DESIGN.md).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import redis
from celery import Task
from celery.exceptions import NotRegistered
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from portal.celery import app
from portal.infra.cache import Breaker
from portal.models import OutboxTask

logger = logging.getLogger(__name__)

PUBLISH_FAILURES = (BrokerUnavailable, redis.RedisError, OSError)
# The sweep leaves younger rows to the process that wrote them, which is sending them right now.
SWEEP_MIN_AGE = timedelta(seconds=10)
BROKER_RETRY_SECONDS = 5.0
# A task that fails this often by itself (not for want of a broker) is given up.
MAX_TASK_FAILURES = 10
_broker = Breaker(
    "Redis broker",
    consequence="tasks wait in the task outbox until the broker is back",
    retry_seconds=BROKER_RETRY_SECONDS,
    clock=lambda: time.monotonic(),
)


def enqueue_on_commit(task: Task[Any, Any], /, **kwargs: Any) -> None:
    """Run ``task(**kwargs)`` in the worker once the current transaction commits.

    ``kwargs`` must be JSON: they wait in the database.
    """
    entry = OutboxTask.objects.create(task_name=task.name, kwargs=kwargs)
    transaction.on_commit(partial(_send_now, entry.pk), robust=True)


def enqueue_many_on_commit(task: Task[Any, Any], /, kwargs_list: list[dict[str, Any]]) -> None:
    """``enqueue_on_commit`` for many runs of one task (a fan-out's batches): the rows are
    written in one statement and handed to the broker in one transaction once this one
    commits."""
    if not kwargs_list:
        return
    entries = OutboxTask.objects.bulk_create(
        [OutboxTask(task_name=task.name, kwargs=kwargs) for kwargs in kwargs_list]
    )
    ids = [entry.pk for entry in entries]
    if None in ids:  # a database that does not return the new ids: the sweep sends them
        return
    transaction.on_commit(partial(_send_many_now, ids), robust=True)


def _send_many_now(entry_ids: list[int]) -> None:
    if not _broker.should_try():
        logger.info("%s tasks wait in the outbox: broker unreachable", len(entry_ids))
        return
    with transaction.atomic():
        entries = list(
            OutboxTask.objects.select_for_update(skip_locked=True)
            .filter(pk__in=entry_ids, gave_up_at__isnull=True)
            .order_by("id")
        )
        sent = []
        for entry in entries:
            try:
                _publish(entry)
            except PUBLISH_FAILURES as error:
                _broker.failed(error)
                break  # the rest wait for the sweep
            except Exception as error:  # the task itself: recorded, and tried again by the sweep
                _task_failed(entry, error)
                continue
            sent.append(entry.pk)
        if sent:
            _broker.succeeded()
            OutboxTask.objects.filter(pk__in=sent).delete()


def _send_now(entry_id: int) -> None:
    if not _broker.should_try():
        logger.info("Task #%s waits in the outbox: broker unreachable", entry_id)
        return
    _send_one(entry_id)


@dataclass(frozen=True)
class OutboxSweep:
    sent: int
    waiting: int


def send_outbox_tasks(*, batch_size: int = 500, now: datetime | None = None) -> OutboxSweep:
    """Hand every waiting task older than ``SWEEP_MIN_AGE`` to the broker, oldest first.

    Each task is sent in a transaction of its own, so a task that fails (unknown to the
    worker, refused arguments) is recorded and skipped without holding up or repeating the
    others. Stops at the first broker failure: the broker is still away, and the rest waits for
    the next run.
    """
    cutoff = (now or timezone.now()) - SWEEP_MIN_AGE
    sent = 0
    after = 0
    broker_away = False
    while not broker_away:
        candidates = list(
            OutboxTask.objects.filter(created_at__lte=cutoff, gave_up_at__isnull=True, id__gt=after)
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        for entry_id in candidates:
            outcome = _send_one(entry_id)
            if outcome == "broker-away":
                broker_away = True
                break
            sent += outcome == "sent"
        if len(candidates) < batch_size:
            break
        after = candidates[-1]
    waiting = OutboxTask.objects.filter(gave_up_at__isnull=True).count()
    if sent:
        logger.info("Task outbox: sent %s waiting tasks; %s still waiting", sent, waiting)
    return OutboxSweep(sent=sent, waiting=waiting)


def _send_one(entry_id: int) -> str:
    """Send one row under its lock; "sent", "gone" (someone else sent it), "broker-away" or
    "failed" (the task itself)."""
    with transaction.atomic():
        # Locked, skipping a row another process holds: the committing request and the sweep
        # never both send one task (PostgreSQL; SQLite has no row locks and is one machine).
        entry = (
            OutboxTask.objects.select_for_update(skip_locked=True)
            .filter(pk=entry_id, gave_up_at__isnull=True)
            .first()
        )
        if entry is None:
            return "gone"
        try:
            _publish(entry)
        except PUBLISH_FAILURES as error:
            _broker.failed(error)
            entry.last_error = described(error)
            entry.save(update_fields=["last_error"])
            return "broker-away"
        except Exception as error:  # the task itself: recorded, and tried again up to a limit
            _task_failed(entry, error)
            return "failed"
        _broker.succeeded()
        entry.delete()
        return "sent"


def _publish(entry: OutboxTask) -> None:
    task = app.tasks.get(entry.task_name)
    if task is None:
        raise NotRegistered(entry.task_name)
    task.apply_async(kwargs=entry.kwargs, retry=False)


def _task_failed(entry: OutboxTask, error: BaseException) -> None:
    entry.attempts += 1
    entry.last_error = described(error)
    fields = ["attempts", "last_error"]
    if entry.attempts >= MAX_TASK_FAILURES:
        entry.gave_up_at = timezone.now()
        fields.append("gave_up_at")
        logger.error(
            "Task outbox: gave up %s #%s after %s failures: %s",
            entry.task_name, entry.pk, entry.attempts, entry.last_error,
        )  # fmt: skip
    else:
        logger.error(
            "Task outbox: %s #%s failed (%s of %s): %s",
            entry.task_name, entry.pk, entry.attempts, MAX_TASK_FAILURES, entry.last_error,
        )  # fmt: skip
    entry.save(update_fields=fields)


def described(error: BaseException, limit: int = 1000) -> str:
    """An error as a line for a row's last error: its type and message, cut at ``limit``."""
    return f"{type(error).__name__}: {error}"[:limit]


@dataclass(frozen=True)
class OutboxState:
    waiting: int
    oldest_seconds: float | None
    given_up: int


def outbox_state() -> OutboxState:
    """How many tasks wait, the age of the oldest, and how many were given up (for /healthz)."""
    waiting = OutboxTask.objects.filter(gave_up_at__isnull=True)
    oldest = waiting.order_by("id").values_list("created_at", flat=True).first()
    return OutboxState(
        waiting=waiting.count(),
        oldest_seconds=(timezone.now() - oldest).total_seconds() if oldest else None,
        given_up=OutboxTask.objects.filter(gave_up_at__isnull=False).count(),
    )


def reset_broker_breaker() -> None:
    """Presume the broker up again (tests)."""
    _broker.reset()
