"""Staff see how a notice's messages fared, in counts: sent, pending, failed, suppressed."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.notifications.models import Delivery
from portal.notifications.selectors import delivery_counts
from tests.factories import NoticeFactory, StaffFactory, UserFactory
from tests.helpers import log_in_with_mfa, with_totp

pytestmark = pytest.mark.django_db


def test_the_counts_group_waiting_and_sending_as_pending() -> None:
    notice = NoticeFactory.create(category="disaster", urgency="warning")
    statuses = ["sent", "sent", "created", "sending", "failed", "suppressed"]
    for status in statuses:
        Delivery.objects.create(
            resident=UserFactory.create(),
            notice=notice,
            channel="email",
            kind="alert",
            status=status,
            next_try_at=timezone.now(),
            last_error="consent withdrawn before it was sent" if status == "suppressed" else "",
        )

    counts = delivery_counts(notice_id=notice.pk)

    assert counts.totals == {
        "sent": 2,
        "pending": 2,
        "passed_on": 0,
        "failed": 1,
        "suppressed": 1,
    }
    (row,) = counts.rows
    assert (row.kind, row.channel, row.total) == ("alert", "email", 6)
    assert counts.reasons == [("consent withdrawn before it was sent", 1)]


def test_the_page_names_no_resident(client) -> None:
    officer = with_totp(StaffFactory.create(roles=["disaster_officer"]))
    log_in_with_mfa(client, officer)
    notice = NoticeFactory.create(category="disaster", urgency="warning")
    resident = UserFactory.create()
    Delivery.objects.create(
        resident=resident,
        notice=notice,
        channel="email",
        kind="alert",
        status="sent",
        next_try_at=timezone.now(),
    )

    response = client.get(reverse("notifications_staff:deliveries", args=[notice.pk]))

    assert response.status_code == 200
    assert resident.email not in response.content.decode()
    assert response.context["counts"].totals["sent"] == 1


def test_a_message_that_went_on_to_the_next_channel_is_not_counted_as_failed() -> None:
    notice = NoticeFactory.create(category="disaster", urgency="warning")
    resident = UserFactory.create()
    first = Delivery.objects.create(
        resident=resident,
        notice=notice,
        channel="webhook",
        kind="alert",
        status="failed",
        next_try_at=timezone.now(),
    )
    Delivery.objects.create(
        resident=resident,
        notice=notice,
        channel="email",
        kind="alert",
        status="sent",
        next_try_at=timezone.now(),
        fallback_of=first,
    )

    counts = delivery_counts(notice_id=notice.pk)

    assert (counts.totals["passed_on"], counts.totals["failed"], counts.totals["sent"]) == (1, 0, 1)
