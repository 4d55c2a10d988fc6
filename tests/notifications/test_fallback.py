"""A resident orders their channels: when a warning cannot be delivered on the first, the next is
tried at once; a digest tries again where it is unless the channel is gone for good."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from portal.notices.services import notice_ingest
from portal.notifications.models import Delivery, DeliveryStatus, WebhookEndpoint
from tests.mail_sink import free_port, smtp_settings
from tests.notifications.conftest import resident_in, warning
from tests.notifications.test_webhook_channel import Gateway, running_gateway

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway(settings) -> Iterator[Gateway]:
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = True
    with running_gateway() as running:
        yield running


def with_gateway(resident, gateway: Gateway) -> None:
    WebhookEndpoint.objects.create(resident=resident, url=gateway.url(), secret="s" * 32)


def test_a_warning_the_mail_server_refuses_goes_to_the_gateway_at_once(
    city, smtp_mailbox, gateway, worker_tasks
) -> None:
    resident = resident_in(city.kitamachi, channels=("email", "webhook"))
    with_gateway(resident, gateway)
    smtp_mailbox.refused.add(resident.email)

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    (received,) = gateway.received
    assert json.loads(received.body)["kind"] == "alert"
    email, webhook = Delivery.objects.filter(resident=resident).order_by("id")
    assert (email.channel, email.status) == ("email", DeliveryStatus.FAILED)
    assert "webhook" in email.last_error
    assert (webhook.channel, webhook.status) == ("webhook", DeliveryStatus.SENT)
    assert webhook.fallback_of_id == email.pk


def test_a_warning_whose_mail_server_is_down_does_not_wait_for_retries(
    city, settings, gateway, worker_tasks
) -> None:
    settings.MAILERS = smtp_settings(free_port())  # nobody listens
    resident = resident_in(city.kitamachi, channels=("email", "webhook"))
    with_gateway(resident, gateway)

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    assert len(gateway.received) == 1


def test_a_failing_gateway_falls_back_to_email(city, smtp_mailbox, gateway, worker_tasks) -> None:
    gateway.status = 503
    resident = resident_in(city.kitamachi, channels=("webhook", "email"))
    with_gateway(resident, gateway)

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    assert len(smtp_mailbox.to(resident.email)) == 1


def test_a_channel_without_its_means_is_skipped_at_the_decision(
    city, smtp_mailbox, worker_tasks
) -> None:
    """No push subscription: the warning goes straight to the next channel."""
    resident = resident_in(city.kitamachi, channels=("push", "email"))

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    assert len(smtp_mailbox.to(resident.email)) == 1
    assert list(Delivery.objects.values_list("channel", flat=True)) == ["email"]


def test_the_last_channel_failing_is_retried_not_dropped(city, settings, worker_tasks) -> None:
    settings.MAILERS = smtp_settings(free_port())
    resident = resident_in(city.kitamachi, channels=("email",))

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    delivery = Delivery.objects.get(resident=resident)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.CREATED, 1)


def test_a_fallback_is_made_once_however_often_the_first_channel_fails(
    city, smtp_mailbox, gateway, worker_tasks
) -> None:
    from portal.notifications.delivery import deliveries_send

    resident = resident_in(city.kitamachi, channels=("email", "webhook"))
    with_gateway(resident, gateway)
    smtp_mailbox.refused.add(resident.email)
    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()
    email = Delivery.objects.get(resident=resident, channel="email")

    Delivery.objects.filter(pk=email.pk).update(status=DeliveryStatus.CREATED)
    deliveries_send(delivery_ids=[email.pk])
    worker_tasks()

    assert Delivery.objects.filter(resident=resident, channel="webhook").count() == 1
    assert len(gateway.received) == 1
