"""Worker tasks of the portal app. Thin: each calls one domain function.

Names are stable ("portal.<what>") and each task names its queue: see portal/celery.py.
"""

from __future__ import annotations

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.core.management import call_command

from portal.infra.health import record_worker_heartbeat


@shared_task(
    name="portal.heartbeat", queue_name="default", base=DjangoTask, bind=True, ignore_result=True
)
def heartbeat(self: DjangoTask[[], None]) -> None:
    """Beat sends this every 30 s; /healthz reports the worker down when it stops arriving."""
    record_worker_heartbeat(hostname=str(self.request.hostname or ""))


@shared_task(
    name="portal.clear_expired_sessions", queue_name="default", base=DjangoTask, ignore_result=True
)
def clear_expired_sessions() -> None:
    call_command("clearsessions")
