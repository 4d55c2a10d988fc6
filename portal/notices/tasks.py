"""Worker tasks of notices. Thin: each calls one function; names are stable ("notices.<what>")."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from portal.notices.models import Notice
from portal.notices.signals import CHANGES, notice_changed

logger = logging.getLogger(__name__)


@shared_task(
    name="notices.announce_change", queue_name="default", base=DjangoTask, ignore_result=True
)
def announce_change(notice_id: int, change: str) -> int:
    """Tell the subscribers (recommender, notifications) that a notice residents see changed.

    Receivers must be idempotent: after a worker dies the task may run again.
    """
    if change not in CHANGES:
        raise ValueError(f"unknown notice change {change!r}")
    if not Notice.objects.filter(pk=notice_id).exists():
        return 0
    receivers = notice_changed.send(sender=Notice, notice_id=notice_id, change=change)
    logger.info("Notice %s %s: told %d receiver(s)", notice_id, change, len(receivers))
    return len(receivers)


@shared_task(name="notices.publish_due", queue_name="default", base=DjangoTask, ignore_result=True)
def publish_due() -> tuple[int, int]:
    """Beat sends this every minute: due notices are published, ended ones expire."""
    from portal.notices.services import notices_expire_due, notices_publish_due

    return len(notices_publish_due()), len(notices_expire_due())
