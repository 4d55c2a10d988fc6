"""A warning published for an area reaches, by email, every resident who asked for warnings and
whose consent lets "disaster warnings for my areas" use a place of theirs in it: once, with its
updates as updates and its cancellation as a cancellation. Sent through a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.catalogue import PurposeCode
from portal.notices.models import Notice
from portal.notices.services import notice_ingest
from portal.notifications.models import Delivery, DeliveryStatus, Kind
from tests.helpers import withdraw
from tests.mail_sink import text_of
from tests.notifications.conftest import resident_in, warning

pytestmark = pytest.mark.django_db


def test_a_warning_for_a_district_is_emailed_to_a_resident_living_there(
    city, smtp_mailbox, worker_tasks
) -> None:
    resident = resident_in(city.kitamachi)

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    (message,) = smtp_mailbox.to(resident.email)
    assert "大雪警報" in message["Subject"]
    assert message["Subject"].startswith("【警報】")
    assert "会津若松市では、大雪に警戒してください。" in text_of(message)


def test_a_warning_for_one_district_is_not_emailed_to_residents_of_another(
    city, smtp_mailbox, worker_tasks
) -> None:
    elsewhere = resident_in(city.minamimachi)

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    assert smtp_mailbox.to(elsewhere.email) == []
    assert not Delivery.objects.filter(resident=elsewhere).exists()


def test_a_warning_for_the_municipality_reaches_every_district_in_it(
    city, smtp_mailbox, worker_tasks
) -> None:
    north = resident_in(city.kitamachi)
    south = resident_in(city.minamimachi)

    notice_ingest(version=warning(area_ids=[city.municipality.pk]))
    worker_tasks()

    assert len(smtp_mailbox.to(north.email)) == 1
    assert len(smtp_mailbox.to(south.email)) == 1


def test_the_email_has_a_plain_text_part_its_own_message_id_and_one_click_unsubscribe(
    city, smtp_mailbox, worker_tasks
) -> None:
    resident = resident_in(city.kitamachi)

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    (message,) = smtp_mailbox.to(resident.email)
    assert {part.get_content_type() for part in message.walk()} >= {"text/plain", "text/html"}
    delivery = Delivery.objects.get(resident=resident)
    assert message["Message-ID"] == delivery.provider_id
    assert message["List-Unsubscribe"].startswith("<http")
    assert "/notifications/unsubscribe/" in message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_unsubscribe_link_is_sent_as_a_link_mail_clients_can_read(
    city, smtp_mailbox, worker_tasks, settings
) -> None:
    """Not folded into RFC 2047 encoded-words, which Python does to a header longer than a
    line, and which no mail client reads as a link."""
    settings.SITE_URL = "https://machi.example-city.lg.jp"
    resident_in(city.kitamachi)

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    (raw,) = smtp_mailbox.raw
    line = next(line for line in raw.split(b"\r\n") if line.startswith(b"List-Unsubscribe:"))
    assert line.startswith(b"List-Unsubscribe: <https://machi.example-city.lg.jp/notifications/")
    assert line.endswith(b"/>")
    assert b"=?" not in line


def test_the_same_document_ingested_again_sends_nothing_more(
    city, smtp_mailbox, worker_tasks
) -> None:
    resident = resident_in(city.kitamachi)
    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    assert len(smtp_mailbox.to(resident.email)) == 1


def test_a_new_version_is_sent_as_an_update_to_those_warned_before(
    city, smtp_mailbox, worker_tasks
) -> None:
    resident = resident_in(city.kitamachi)
    notice_ingest(version=warning(1, area_ids=[city.kitamachi.pk]))
    worker_tasks()

    notice_ingest(version=warning(2, area_ids=[city.kitamachi.pk]))
    worker_tasks()

    first, second = smtp_mailbox.to(resident.email)
    assert "更新" in second["Subject"]
    assert "第2報" in second["Subject"]
    assert list(
        Delivery.objects.filter(resident=resident).order_by("id").values_list("kind", flat=True)
    ) == [Kind.ALERT, Kind.UPDATE]


def test_a_new_version_reaching_a_new_district_alerts_its_residents_as_new(
    city, smtp_mailbox, worker_tasks
) -> None:
    south = resident_in(city.minamimachi)
    notice_ingest(version=warning(1, area_ids=[city.kitamachi.pk]))
    worker_tasks()

    notice_ingest(version=warning(2, area_ids=[city.kitamachi.pk, city.minamimachi.pk]))
    worker_tasks()

    (message,) = smtp_mailbox.to(south.email)
    assert "更新" not in message["Subject"]
    assert Delivery.objects.get(resident=south).kind == Kind.ALERT


def test_a_cancellation_is_sent_as_a_cancellation_to_those_warned(
    city, smtp_mailbox, worker_tasks
) -> None:
    resident = resident_in(city.kitamachi)
    notice_ingest(version=warning(1, area_ids=[city.kitamachi.pk]))
    worker_tasks()

    notice_ingest(version=warning(2, action="cancel", area_ids=[city.kitamachi.pk]))
    worker_tasks()

    alert, cancellation = smtp_mailbox.to(resident.email)
    assert cancellation["Subject"].startswith("取消")
    assert "大雪警報" in cancellation["Subject"]
    assert "取り消されました" in text_of(cancellation)
    assert "警戒してください" not in text_of(cancellation)


def test_a_lifted_warning_is_sent_as_lifted(city, smtp_mailbox, worker_tasks) -> None:
    resident = resident_in(city.kitamachi)
    notice_ingest(version=warning(1, area_ids=[city.kitamachi.pk]))
    worker_tasks()

    notice_ingest(version=warning(2, action="lift", area_ids=[city.kitamachi.pk]))
    worker_tasks()

    _alert, lifted = smtp_mailbox.to(resident.email)
    assert lifted["Subject"].startswith("解除")
    assert "解除されました" in text_of(lifted)


def test_a_cancellation_reaches_nobody_who_was_not_warned(city, smtp_mailbox, worker_tasks) -> None:
    notice_ingest(version=warning(1, area_ids=[city.kitamachi.pk]))
    worker_tasks()
    newcomer = resident_in(city.kitamachi)

    notice_ingest(version=warning(2, action="cancel", area_ids=[city.kitamachi.pk]))
    worker_tasks()

    assert smtp_mailbox.to(newcomer.email) == []


def test_a_resident_whose_consent_does_not_cover_places_gets_nothing(
    city, smtp_mailbox, worker_tasks
) -> None:
    resident = resident_in(city.kitamachi, consent=False)

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    assert smtp_mailbox.to(resident.email) == []
    assert not Delivery.objects.filter(resident=resident).exists()


def test_a_resident_who_did_not_ask_for_warnings_gets_nothing(
    city, smtp_mailbox, worker_tasks
) -> None:
    resident = resident_in(city.kitamachi, warnings=False)

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    assert smtp_mailbox.to(resident.email) == []


def test_a_withdrawal_after_the_decision_stops_the_waiting_warning(
    city, smtp_mailbox, worker_tasks
) -> None:
    resident = resident_in(city.kitamachi)
    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    # The fan-out decides; the sending tasks have not run yet.
    worker_tasks(prefixes=("notices.announce_change", "notifications.fan_out"))
    delivery = Delivery.objects.get(resident=resident)
    assert delivery.status == DeliveryStatus.CREATED

    withdraw(resident, purpose=PurposeCode.DISASTER_WARNINGS)
    worker_tasks()

    assert smtp_mailbox.to(resident.email) == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUPPRESSED


def test_a_withdrawal_is_checked_again_by_the_sender_itself(
    city, smtp_mailbox, worker_tasks
) -> None:
    """Even a row the withdrawal's own receiver missed (say, it was being claimed at that
    moment) is not sent: the sender asks the consent gate again."""
    resident = resident_in(city.kitamachi)
    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks(prefixes=("notices.announce_change", "notifications.fan_out"))
    withdraw(resident, purpose=PurposeCode.DISASTER_WARNINGS)
    Delivery.objects.filter(resident=resident).update(status=DeliveryStatus.CREATED)

    worker_tasks()

    assert smtp_mailbox.to(resident.email) == []
    assert Delivery.objects.get(resident=resident).status == DeliveryStatus.SUPPRESSED


def test_a_resident_who_reads_english_is_sent_english(city, smtp_mailbox, worker_tasks) -> None:
    resident = resident_in(city.kitamachi, language="en")

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    (message,) = smtp_mailbox.to(resident.email)
    assert "Heavy snow warning" in message["Subject"]
    assert "[Warning]" in message["Subject"]


def test_an_exercise_goes_only_to_residents_who_asked_for_drills(
    city, smtp_mailbox, worker_tasks
) -> None:
    drilled = resident_in(city.kitamachi, drills=True)
    not_drilled = resident_in(city.kitamachi)

    notice_ingest(
        version=warning(area_ids=[city.kitamachi.pk], is_exercise=True, title_ja="【訓練】大雪警報")
    )
    worker_tasks()

    (message,) = smtp_mailbox.to(drilled.email)
    assert "訓練" in message["Subject"]
    assert smtp_mailbox.to(not_drilled.email) == []


def test_a_warning_is_sent_in_quiet_hours(city, smtp_mailbox, worker_tasks) -> None:
    from portal.notifications.models import NotificationPreference

    resident = resident_in(city.kitamachi)
    now = timezone.localtime()
    NotificationPreference.objects.filter(resident=resident).update(
        quiet_from=(now - timedelta(hours=1)).time(), quiet_until=(now + timedelta(hours=1)).time()
    )

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks()

    assert len(smtp_mailbox.to(resident.email)) == 1


def test_a_drill_waits_for_the_end_of_quiet_hours(city, smtp_mailbox, worker_tasks) -> None:
    from portal.notifications.models import NotificationPreference

    resident = resident_in(city.kitamachi, drills=True)
    now = timezone.localtime()
    NotificationPreference.objects.filter(resident=resident).update(
        quiet_from=(now - timedelta(hours=1)).time(), quiet_until=(now + timedelta(hours=1)).time()
    )

    notice_ingest(version=warning(area_ids=[city.kitamachi.pk], is_exercise=True))
    worker_tasks()

    assert smtp_mailbox.to(resident.email) == []
    delivery = Delivery.objects.get(resident=resident)
    assert delivery.status == DeliveryStatus.CREATED
    assert delivery.next_try_at > timezone.now() + timedelta(minutes=50)


def test_a_withdrawn_notice_is_not_sent_to_those_not_yet_sent_it(
    city, smtp_mailbox, worker_tasks
) -> None:
    resident = resident_in(city.kitamachi)
    result = notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks(prefixes=("notices.announce_change", "notifications.fan_out"))
    Notice.objects.filter(pk=result.notice_id or 0).update(status="withdrawn")

    worker_tasks()

    assert smtp_mailbox.to(resident.email) == []
    assert Delivery.objects.get(resident=resident).status == DeliveryStatus.SUPPRESSED
