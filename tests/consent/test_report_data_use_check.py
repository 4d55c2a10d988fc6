"""The data-use report's check that no logged read happened outside an active consent: it finds
none for reads made through the gate, and finds each kind of read the gate would have refused."""

from __future__ import annotations

import logging
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from consent import policy
from consent.catalogue import CATEGORY_BITS
from consent.models import DataUseCheck, DataUseEvent
from consent.reports.data_use_check import SNAPSHOT_SLACK, data_use_check, days_to_check
from consent.tasks import check_data_use
from portal.models import StaffAuditEntry
from tests.factories import StaffFactory, UserFactory
from tests.helpers import grant, log_in_with_mfa, publish_material_change, with_totp, withdraw

pytestmark = pytest.mark.django_db

SCORER = policy.Reader(kind="task", name="scorer", recipient="city")


def read_through_the_gate(residents) -> None:
    policy.read_profiles(
        resident_ids=[r.pk for r in residents],
        purpose="personalised_home",
        reader=SCORER,
        categories=["places", "interests"],
    )


def forged_read(resident, *, at, recipient: str = "city", category: str = "places") -> None:
    """A row in the log as a read that went around the gate would leave."""
    DataUseEvent.objects.create(
        resident=resident,
        purpose_code="personalised_home",
        recipient_code=recipient,
        reader_kind="task",
        reader_name="a rogue reader",
        day=timezone.localdate(at),
        category_mask=CATEGORY_BITS[category],
        use_count=1,
        first_at=at,
        last_at=at,
    )


def check_today() -> DataUseCheck:
    return data_use_check(day=timezone.localdate())


def test_reads_through_the_gate_are_all_within_an_active_consent() -> None:
    residents = UserFactory.create_batch(3)
    for resident in residents:
        grant(resident, "personalised_home", "places", "interests")
    read_through_the_gate(residents)

    check = check_today()

    assert (check.rows_checked, check.moments_checked) == (3, 6)  # one moment, two categories
    assert check.outside_consent == 0
    assert check.problems == ""


def test_a_read_of_a_resident_who_never_agreed_is_found() -> None:
    resident = UserFactory.create()

    forged_read(resident, at=timezone.now())

    check = check_today()
    assert check.outside_consent == 1
    assert "personalised_home/places" in check.problems
    assert str(resident.pseudonym) not in check.problems  # officers see no one's identity


def test_a_read_after_a_withdrawal_is_found() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    withdraw(resident, purpose="personalised_home")

    forged_read(resident, at=timezone.now() + timedelta(minutes=1))

    assert check_today().outside_consent == 1


def test_a_read_in_a_snapshot_taken_just_before_a_withdrawal_is_covered() -> None:
    resident = UserFactory.create()
    with time_machine.travel(timezone.now() - timedelta(minutes=1)):
        grant(resident, "personalised_home", "places")
    withdrawn_at = withdraw(resident, purpose="personalised_home").events[0].occurred_at

    forged_read(resident, at=withdrawn_at + SNAPSHOT_SLACK / 2)

    assert check_today().outside_consent == 0


def test_a_read_for_a_recipient_the_consent_does_not_name_is_found() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")

    forged_read(resident, at=timezone.now(), recipient="board_of_education")

    assert check_today().outside_consent == 1


def test_a_read_under_terms_replaced_by_a_material_change_is_found() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    replaced = publish_material_change("personalised_home")

    forged_read(resident, at=replaced.published_at + timedelta(minutes=1))

    assert check_today().outside_consent == 1


def test_a_read_of_a_category_the_resident_did_not_grant_is_found() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")

    forged_read(resident, at=timezone.now(), category="interests")

    assert check_today().outside_consent == 1


def test_checking_a_day_again_replaces_its_outcome() -> None:
    resident = UserFactory.create()
    check_today()
    forged_read(resident, at=timezone.now())

    check_today()

    assert DataUseCheck.objects.get().outside_consent == 1


def test_today_is_always_checked_again_and_a_day_checked_after_it_ended_is_not() -> None:
    today = timezone.localdate()
    yesterday, before = today - timedelta(days=1), today - timedelta(days=2)
    DataUseCheck.objects.create(
        day=yesterday,
        checked_at=timezone.now(),
        rows_checked=0,
        moments_checked=0,
        outside_consent=0,
    )
    DataUseCheck.objects.create(
        day=today, checked_at=timezone.now(), rows_checked=0, moments_checked=0, outside_consent=0
    )

    assert days_to_check(today=today, days=3) == [before, today]


def test_the_nightly_check_logs_an_error_for_a_read_outside_consent(caplog) -> None:
    forged_read(UserFactory.create(), at=timezone.now())

    with caplog.at_level(logging.ERROR, logger="consent.tasks"):
        assert check_data_use(days=1) == 1

    assert "outside an active consent" in caplog.text
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "consent.check_data_use" in scheduled


# ---------------------------------------------------------------------------------- the page


@pytest.fixture
def officer(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    staff = with_totp(StaffFactory.create(roles=["consent_officer"]))
    log_in_with_mfa(client, staff)
    return staff


def test_the_page_shows_each_days_outcome(client, officer) -> None:
    forged_read(UserFactory.create(), at=timezone.now())
    check_today()

    page = client.get(reverse("consent_staff:reports_data_use")).content.decode()

    assert "1 read outside an active consent" in page
    assert "a rogue reader" in page
    assert "not checked yet" in page  # the six days before today


def test_the_officer_has_the_worker_check_the_period_now(
    client, officer, django_capture_on_commit_callbacks
) -> None:
    forged_read(UserFactory.create(), at=timezone.now())

    with (
        mock.patch(
            "consent.tasks.check_data_use.apply_async",
            side_effect=lambda kwargs, **options: check_data_use(**kwargs),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(reverse("consent_staff:reports_data_use"), {"days": "14"})

    assert response.status_code == 302
    assert response["Location"].endswith("?days=14")
    assert DataUseCheck.objects.count() == 14
    assert DataUseCheck.objects.get(day=timezone.localdate()).outside_consent == 1
    assert StaffAuditEntry.objects.filter(
        actor=officer, action="consent.reports.check_data_use"
    ).exists()
