"""Worker tasks of the portal app. Thin: each calls one domain function."""

from __future__ import annotations

from celery import Task, shared_task
from celery.contrib.django.task import DjangoTask
from django.core.management import call_command

from portal.infra.health import record_worker_heartbeat


@shared_task(bind=True, ignore_result=True)
def heartbeat(self: Task[[], None]) -> None:
    """Beat sends this every 30 s; /healthz reports the worker down when it stops arriving."""
    record_worker_heartbeat(hostname=str(self.request.hostname or ""))


@shared_task(base=DjangoTask, ignore_result=True)
def clear_expired_sessions() -> None:
    call_command("clearsessions")
