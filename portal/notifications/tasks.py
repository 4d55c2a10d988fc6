"""Worker tasks of notifications, on the ``notify`` queue. Thin: each calls one function; names
are stable ("notifications.<what>"). All are safe to run twice (DESIGN.md)."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask

logger = logging.getLogger(__name__)


@shared_task(name="notifications.fan_out", queue_name="notify", base=DjangoTask, ignore_result=True)
def fan_out(notice_id: int, change: str) -> int:
    """A notice changed: one range task per NOTIFY_RANGE_SIZE residents who may be sent
    something. Returns the number of ranges."""
    from portal.notifications.fanout import fan_out_start

    return fan_out_start(notice_id=notice_id, change=change)


@shared_task(
    name="notifications.fan_out_range", queue_name="notify", base=DjangoTask, ignore_result=True
)
def fan_out_range(notice_id: int, change: str, low: int, high: int) -> int:
    from portal.notifications.fanout import fan_out_range_decide

    return fan_out_range_decide(notice_id=notice_id, change=change, id_range=(low, high))


@shared_task(
    name="notifications.send_deliveries", queue_name="notify", base=DjangoTask, ignore_result=True
)
def send_deliveries(delivery_ids: list[int]) -> int:
    from portal.notifications.delivery import deliveries_send

    return deliveries_send(delivery_ids=delivery_ids).sent


@shared_task(name="notifications.sweep", queue_name="notify", base=DjangoTask, ignore_result=True)
def sweep() -> int:
    """Beat: rows due a retry, or whose task or worker was lost, are handed out again."""
    from portal.notifications.delivery import deliveries_sweep

    return deliveries_sweep().requeued


@shared_task(
    name="notifications.send_digests", queue_name="notify", base=DjangoTask, ignore_result=True
)
def send_digests() -> int:
    """Beat, once a day: the day's digests, one range task per NOTIFY_RANGE_SIZE residents."""
    from portal.notifications.digests import digests_start

    return digests_start()


@shared_task(
    name="notifications.digest_range", queue_name="notify", base=DjangoTask, ignore_result=True
)
def digest_range(low: int, high: int, at: str) -> int:
    from datetime import datetime

    from portal.notifications.digests import digests_decide

    return digests_decide(id_range=(low, high), now=datetime.fromisoformat(at)).queued


@shared_task(name="notifications.prune", queue_name="notify", base=DjangoTask, ignore_result=True)
def prune() -> int:
    """Beat, nightly: outbox rows past NOTIFY_DELIVERY_RETENTION_DAYS."""
    from portal.notifications.delivery import deliveries_prune

    return deliveries_prune()
