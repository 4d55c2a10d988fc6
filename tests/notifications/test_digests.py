"""Digests: the other notices recommended to a resident, daily or weekly as they chose (off until
they choose), from their stored feed, sent only while they share data for their home page."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from consent.catalogue import PurposeCode
from portal.notifications.digests import digests_start, due_frequencies
from portal.notifications.models import Delivery, DeliveryStatus, Kind
from portal.notifications.services import Preferences, preferences_update
from portal.residents.services import place_add
from recommendations.services import feeds_rescore
from tests.factories import NoticeFactory, UserFactory
from tests.helpers import grant, withdraw
from tests.mail_sink import text_of

pytestmark = pytest.mark.django_db

# A Monday morning in Aizuwakamatsu.
MONDAY = datetime(2026, 12, 7, 7, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


HOURS_2 = timedelta(hours=2)


def reader_of(district, *, digest: str = "daily", categories: tuple[str, ...] = ()):
    """A resident of ``district`` sharing it for their home page, with a digest by email."""
    resident = UserFactory.create()
    grant(resident, PurposeCode.PERSONALISED_HOME, "places")
    place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    preferences_update(
        resident_id=resident.pk,
        preferences=Preferences(
            channels=["email"], digest=digest, digest_categories=list(categories)
        ),
    )
    return resident


def notice_for(
    district, title: str, *, category: str = "events", age: timedelta = timedelta(hours=2)
):
    notice = NoticeFactory.create(
        title_ja=title, category=category, is_public=False, published_at=MONDAY - age
    )
    notice.areas.add(district)
    return notice


def test_a_daily_digest_lists_the_new_notices_of_the_residents_feed(
    city, smtp_mailbox, worker_tasks
) -> None:
    resident = reader_of(city.kitamachi)
    notice_for(city.kitamachi, "北町の雪まつり")
    feeds_rescore(id_range=(resident.pk, resident.pk), now=MONDAY)

    digests_start(now=MONDAY)
    worker_tasks()

    (message,) = smtp_mailbox.to(resident.email)
    assert "北町の雪まつり" in text_of(message)
    assert Delivery.objects.get(resident=resident).kind == Kind.DIGEST


def test_notices_older_than_the_period_are_left_out(city, smtp_mailbox, worker_tasks) -> None:
    resident = reader_of(city.kitamachi)
    notice_for(city.kitamachi, "先週のお知らせ", age=timedelta(days=3))
    feeds_rescore(id_range=(resident.pk, resident.pk), now=MONDAY)

    digests_start(now=MONDAY)
    worker_tasks()

    assert smtp_mailbox.to(resident.email) == []
    assert not Delivery.objects.exists()


def test_a_weekly_digest_covers_the_week_and_comes_on_its_weekday(
    city, smtp_mailbox, worker_tasks, settings
) -> None:
    settings.NOTIFY_DIGEST_WEEKDAY = 0
    resident = reader_of(city.kitamachi, digest="weekly")
    notice_for(city.kitamachi, "先週のお知らせ", age=timedelta(days=3))
    feeds_rescore(id_range=(resident.pk, resident.pk), now=MONDAY)

    digests_start(now=MONDAY + timedelta(days=1))  # a Tuesday: nothing
    worker_tasks()
    assert smtp_mailbox.to(resident.email) == []

    digests_start(now=MONDAY)
    worker_tasks()
    (message,) = smtp_mailbox.to(resident.email)
    assert "先週のお知らせ" in text_of(message)


def test_weekly_digests_are_due_only_on_their_weekday(settings) -> None:
    settings.NOTIFY_DIGEST_WEEKDAY = 0
    assert due_frequencies(MONDAY.date()) == ["daily", "weekly"]
    assert due_frequencies((MONDAY + timedelta(days=1)).date()) == ["daily"]


def test_a_digest_holds_only_the_categories_chosen(city, smtp_mailbox, worker_tasks) -> None:
    resident = reader_of(city.kitamachi, categories=("health",))
    notice_for(city.kitamachi, "北町の雪まつり", category="events")
    notice_for(city.kitamachi, "北町の健康診断", category="health")
    feeds_rescore(id_range=(resident.pk, resident.pk), now=MONDAY)

    digests_start(now=MONDAY)
    worker_tasks()

    (message,) = smtp_mailbox.to(resident.email)
    assert "北町の健康診断" in text_of(message)
    assert "北町の雪まつり" not in text_of(message)


def test_a_resident_who_did_not_choose_a_digest_gets_none(city, smtp_mailbox, worker_tasks) -> None:
    resident = reader_of(city.kitamachi, digest="off")
    notice_for(city.kitamachi, "北町の雪まつり")
    feeds_rescore(id_range=(resident.pk, resident.pk), now=MONDAY)

    digests_start(now=MONDAY)
    worker_tasks()

    assert smtp_mailbox.to(resident.email) == []


def test_a_digest_is_not_sent_after_the_home_page_consent_is_withdrawn(
    city, smtp_mailbox, worker_tasks
) -> None:
    resident = reader_of(city.kitamachi)
    notice_for(city.kitamachi, "北町の雪まつり")
    feeds_rescore(id_range=(resident.pk, resident.pk), now=MONDAY)
    digests_start(now=MONDAY)
    worker_tasks(prefixes=("notifications.digest_range", "notifications.send_digests"))

    withdraw(resident, purpose=PurposeCode.PERSONALISED_HOME)
    worker_tasks()

    assert smtp_mailbox.to(resident.email) == []
    assert Delivery.objects.get(resident=resident).status == DeliveryStatus.SUPPRESSED


def test_a_digest_waits_for_the_end_of_quiet_hours(city, smtp_mailbox, worker_tasks) -> None:
    from portal.notifications.models import NotificationPreference

    resident = reader_of(city.kitamachi)
    NoticeFactory.create(title_ja="北町の雪まつり", category="events").areas.add(city.kitamachi)
    now = timezone.localtime()
    NotificationPreference.objects.filter(resident=resident).update(
        quiet_from=(now - timedelta(hours=1)).time(), quiet_until=(now + timedelta(hours=1)).time()
    )
    feeds_rescore(id_range=(resident.pk, resident.pk))

    digests_start(now=timezone.now())
    worker_tasks()

    assert smtp_mailbox.to(resident.email) == []
    assert Delivery.objects.get(resident=resident).status == DeliveryStatus.CREATED


def test_starting_the_days_digests_twice_sends_one(city, smtp_mailbox, worker_tasks) -> None:
    resident = reader_of(city.kitamachi)
    notice_for(city.kitamachi, "北町の雪まつり")
    feeds_rescore(id_range=(resident.pk, resident.pk), now=MONDAY)

    digests_start(now=MONDAY)
    digests_start(now=MONDAY + timedelta(minutes=1))
    worker_tasks()

    assert len(smtp_mailbox.to(resident.email)) == 1


def test_a_warning_already_sent_is_not_in_the_digest(city, smtp_mailbox, worker_tasks) -> None:
    resident = reader_of(city.kitamachi)
    grant(resident, PurposeCode.DISASTER_WARNINGS, "places")
    warned = notice_for(city.kitamachi, "北町に大雪警報", category="disaster")
    notice_for(city.kitamachi, "北町の雪まつり")
    Delivery.objects.create(
        resident=resident,
        notice=warned,
        channel="email",
        kind="alert",
        status="sent",
        next_try_at=MONDAY,
    )
    feeds_rescore(id_range=(resident.pk, resident.pk), now=MONDAY)

    digests_start(now=MONDAY)
    worker_tasks()

    (digest,) = smtp_mailbox.to(resident.email)
    assert "北町の雪まつり" in text_of(digest)
    assert "大雪警報" not in text_of(digest)
