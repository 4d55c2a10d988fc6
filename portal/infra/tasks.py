"""Worker tasks of the portal app. Thin: each calls one domain function.

Names are stable ("portal.<what>") and each task names its queue: see portal/celery.py.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from celery.exceptions import SoftTimeLimitExceeded
from django.core.management import call_command

from portal.infra import mail, task_outbox
from portal.infra.health import record_worker_heartbeat


@shared_task(
    name="portal.heartbeat", queue_name="default", base=DjangoTask, bind=True, ignore_result=True
)
def heartbeat(self: DjangoTask[[], None]) -> None:
    """Beat sends this every 10 s; /healthz reports the worker down when it stops arriving."""
    record_worker_heartbeat(hostname=str(self.request.hostname or ""))


@shared_task(
    name="portal.clear_expired_sessions", queue_name="default", base=DjangoTask, ignore_result=True
)
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@shared_task(
    name="portal.send_outbox_tasks", queue_name="default", base=DjangoTask, ignore_result=True
)
def send_outbox_tasks() -> int:
    """Beat sends this every 15 s: tasks that waited in the database for the broker go out."""
    return task_outbox.send_outbox_tasks().sent


@shared_task(
    name="portal.send_email",
    queue_name="notify",
    base=DjangoTask,
    ignore_result=True,
    # A mail server that hangs past the task's soft time limit is retried like one that refuses.
    autoretry_for=(*mail.SEND_FAILURES, SoftTimeLimitExceeded),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=20,
)
def send_email(message: dict[str, Any]) -> None:
    """An email a request could not send (portal/infra/mail.py): retried for about half a day."""
    mail.message_from_data(message).send()
