"""The outbox sends each message once: a task run twice, a range decided twice, a worker lost in
the middle of sending; a failing server is tried again with backoff and given up on after a
limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.notices.models import Notice
from portal.notices.services import notice_ingest
from portal.notifications.delivery import (
    MAX_ATTEMPTS,
    deliveries_send,
    deliveries_sweep,
    retry_delay,
)
from portal.notifications.fanout import announcement_for, deliveries_fan_out
from portal.notifications.models import Delivery, DeliveryStatus
from tests.mail_sink import free_port, smtp_settings
from tests.notifications.conftest import resident_in, warning

pytestmark = pytest.mark.django_db

RUN_UP_TO_SENDING = ("notices.announce_change", "notifications.fan_out")


@pytest.fixture
def decided(city, worker_tasks) -> Delivery:
    """A warning decided for one resident of Kitamachi, its message not sent yet."""
    resident_in(city.kitamachi)
    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks(prefixes=RUN_UP_TO_SENDING)
    return Delivery.objects.get()


def test_a_sending_task_run_twice_sends_the_message_once(decided, smtp_mailbox) -> None:
    deliveries_send(delivery_ids=[decided.pk])
    deliveries_send(delivery_ids=[decided.pk])

    assert len(smtp_mailbox.messages) == 1
    decided.refresh_from_db()
    assert decided.status == DeliveryStatus.SENT
    assert decided.attempts == 1


def test_a_range_decided_twice_makes_no_second_row(city, decided) -> None:
    notice = Notice.objects.get(pk=decided.notice_id)
    announcement = announcement_for(notice, "published")
    assert announcement is not None

    again = deliveries_fan_out(announcement=announcement, id_range=(0, 2**62))

    assert again.queued == 1  # the waiting row, handed out again; no new one
    assert Delivery.objects.count() == 1


def test_a_row_left_sending_by_a_dead_worker_is_sent_after_its_lease(
    decided, smtp_mailbox, settings, worker_tasks
) -> None:
    Delivery.objects.filter(pk=decided.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, next_try_at=timezone.now() + timedelta(minutes=5)
    )
    assert deliveries_sweep().requeued == 0  # its lease still runs

    swept = deliveries_sweep(now=timezone.now() + timedelta(minutes=6))
    worker_tasks()

    assert swept.requeued == 1
    (message,) = smtp_mailbox.messages
    decided.refresh_from_db()
    assert decided.status == DeliveryStatus.SENT
    assert message["Message-ID"] == decided.provider_id


def test_a_row_whose_task_was_lost_is_handed_out_by_the_sweep(
    decided, smtp_mailbox, settings, worker_tasks
) -> None:
    from portal.models import OutboxTask

    OutboxTask.objects.all().delete()  # the broker lost the sending task

    deliveries_sweep(now=timezone.now() + timedelta(seconds=settings.NOTIFY_TASK_GRACE_SECONDS + 1))
    worker_tasks()

    assert len(smtp_mailbox.messages) == 1


def test_a_fresh_row_is_left_to_its_own_task(decided) -> None:
    assert deliveries_sweep().requeued == 0


def test_the_message_id_is_the_same_when_a_message_is_sent_again(decided, smtp_mailbox) -> None:
    deliveries_send(delivery_ids=[decided.pk])
    Delivery.objects.filter(pk=decided.pk).update(status=DeliveryStatus.CREATED)
    deliveries_send(delivery_ids=[decided.pk])

    first, second = smtp_mailbox.messages
    assert first["Message-ID"] == second["Message-ID"]


def test_a_mail_server_that_does_not_answer_is_tried_again_later(decided, settings) -> None:
    settings.MAILERS = smtp_settings(free_port())  # nobody listens there

    result = deliveries_send(delivery_ids=[decided.pk])

    decided.refresh_from_db()
    assert result.retried == 1
    assert decided.status == DeliveryStatus.CREATED
    assert decided.last_error
    assert decided.next_try_at > timezone.now() + retry_delay(1) - timedelta(seconds=5)


def test_the_retries_back_off_exponentially() -> None:
    assert [retry_delay(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 480, 960]


def test_a_message_is_given_up_after_the_last_try(decided, settings) -> None:
    settings.MAILERS = smtp_settings(free_port())
    Delivery.objects.filter(pk=decided.pk).update(attempts=MAX_ATTEMPTS - 1)

    result = deliveries_send(delivery_ids=[decided.pk])

    decided.refresh_from_db()
    assert result.failed == 1
    assert decided.status == DeliveryStatus.FAILED
    assert decided.attempts == MAX_ATTEMPTS


def test_a_row_whose_retry_is_due_is_sent_by_the_sweep(
    decided, settings, smtp_mailbox, worker_tasks
) -> None:
    working = settings.MAILERS
    settings.MAILERS = smtp_settings(free_port())
    deliveries_send(delivery_ids=[decided.pk])
    settings.MAILERS = working
    decided.refresh_from_db()

    deliveries_sweep(now=decided.next_try_at + timedelta(seconds=1))
    worker_tasks()

    decided.refresh_from_db()
    assert decided.status == DeliveryStatus.SENT
    assert decided.attempts == 2


def test_an_address_the_server_refuses_fails_at_once_when_there_is_no_other_channel(
    decided, smtp_mailbox
) -> None:
    smtp_mailbox.refused.add(decided.resident.email)

    result = deliveries_send(delivery_ids=[decided.pk])

    decided.refresh_from_db()
    assert result.failed == 1
    assert decided.status == DeliveryStatus.FAILED
    assert "550" in decided.last_error


def test_a_batch_slower_than_half_the_lease_hands_the_rest_back(
    city, smtp_mailbox, worker_tasks, settings, monkeypatch
) -> None:
    from portal.notifications import delivery

    for _ in range(3):
        resident_in(city.kitamachi)
    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks(prefixes=RUN_UP_TO_SENDING)
    ids = list(Delivery.objects.order_by("id").values_list("id", flat=True))
    settings.NOTIFY_LEASE_SECONDS = 60
    clock = iter([0.0, 10.0, 31.0, 31.0, 31.0])  # the deadline, then one message, then late
    monkeypatch.setattr(delivery, "_clock", lambda: next(clock))

    result = deliveries_send(delivery_ids=ids)

    assert (result.sent, result.handed_back) == (1, 2)
    assert Delivery.objects.filter(status=DeliveryStatus.CREATED, attempts=0).count() == 2


def test_rows_past_their_retention_are_pruned_but_pending_ones_are_kept(decided, settings) -> None:
    from portal.notifications.delivery import deliveries_prune

    old = timezone.now() - timedelta(days=settings.NOTIFY_DELIVERY_RETENTION_DAYS + 1)
    done = Delivery.objects.create(
        resident=decided.resident,
        notice=decided.notice,
        channel="webhook",
        kind="alert",
        status=DeliveryStatus.SENT,
        next_try_at=old,
    )
    Delivery.objects.filter(pk__in=[done.pk, decided.pk]).update(created_at=old)

    assert deliveries_prune() == 1
    assert list(Delivery.objects.values_list("pk", flat=True)) == [decided.pk]
