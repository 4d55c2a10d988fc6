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
from django.db import transaction
from django.db.models import F
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
    transaction.on_commit(partial(_send_now, task, entry.pk, kwargs), robust=True)


def _send_now(task: Task[Any, Any], entry_id: int, kwargs: dict[str, Any]) -> None:
    if not _broker.should_try():
        logger.info("Task %s #%s waits in the outbox: broker unreachable", task.name, entry_id)
        return
    try:
        task.apply_async(kwargs=kwargs, retry=False)
    except PUBLISH_FAILURES as error:
        _broker.failed(error)
        _record_failure(entry_id, error)
        return
    _broker.succeeded()
    OutboxTask.objects.filter(pk=entry_id).delete()


@dataclass(frozen=True)
class OutboxSweep:
    sent: int
    waiting: int


def send_outbox_tasks(*, batch_size: int = 500, now: datetime | None = None) -> OutboxSweep:
    """Hand every waiting task older than ``SWEEP_MIN_AGE`` to the broker, oldest first.

    Stops at the first failure: the broker is still away, and the rest waits for the next run.
    Rows are locked (SKIP LOCKED on PostgreSQL) so that two workers never send the same one.
    """
    cutoff = (now or timezone.now()) - SWEEP_MIN_AGE
    sent = 0
    while True:
        with transaction.atomic():
            entries = list(
                OutboxTask.objects.select_for_update(skip_locked=True)
                .filter(created_at__lte=cutoff)
                .order_by("id")[:batch_size]
            )
            handed_over, failed = _hand_over(entries)
            OutboxTask.objects.filter(pk__in=handed_over).delete()
        sent += len(handed_over)
        if failed or len(entries) < batch_size:
            break
    waiting = OutboxTask.objects.count()
    if sent:
        logger.info("Task outbox: sent %s waiting tasks; %s still waiting", sent, waiting)
    return OutboxSweep(sent=sent, waiting=waiting)


def _hand_over(entries: list[OutboxTask]) -> tuple[list[int], bool]:
    handed_over: list[int] = []
    for entry in entries:
        try:
            _task_named(entry.task_name).apply_async(kwargs=entry.kwargs, retry=False)
        except PUBLISH_FAILURES as error:
            _record_failure(entry.pk, error)
            logger.warning(
                "Task outbox: the broker refused %s #%s: %s", entry.task_name, entry.pk, error
            )
            return handed_over, True
        handed_over.append(entry.pk)
    return handed_over, False


def _task_named(name: str) -> Task[Any, Any]:
    if name not in app.tasks:
        # The project's tasks modules are imported lazily; a worker has them all by now.
        app.loader.import_default_modules()
    task: Task[Any, Any] = app.tasks[name]
    return task


def _record_failure(entry_id: int, error: BaseException) -> None:
    OutboxTask.objects.filter(pk=entry_id).update(
        attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:1000]
    )


def waiting_tasks() -> tuple[int, float | None]:
    """How many tasks wait, and the age in seconds of the oldest (for /healthz)."""
    oldest = OutboxTask.objects.order_by("id").values_list("created_at", flat=True).first()
    if oldest is None:
        return 0, None
    return OutboxTask.objects.count(), (timezone.now() - oldest).total_seconds()


def reset_broker_breaker() -> None:
    """Presume the broker up again (tests)."""
    _broker.reset()
