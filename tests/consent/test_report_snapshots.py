"""The counts the consent reports keep instead of counting a city again on every page: the
overview's (refreshed by beat) and each ended day's data use."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from consent import policy
from consent.models import ReportSnapshot
from consent.reports.selectors import data_use_by_day, overview, overview_snapshot
from consent.reports.services import data_use_days_roll_up, overview_snapshot_refresh
from consent.tasks import refresh_report_overview, roll_up_data_use
from tests.factories import UserFactory
from tests.helpers import grant

pytestmark = pytest.mark.django_db

SCORER = policy.Reader(kind="task", name="scorer", recipient="city")


def test_the_overview_kept_is_the_overview_counted() -> None:
    for resident in UserFactory.create_batch(3):
        grant(resident, "personalised_home", "places")

    overview_snapshot_refresh()

    kept = overview_snapshot()
    assert kept is not None and kept.counted_at is not None
    assert kept.counts() == overview().counts()


def test_an_old_overview_is_not_shown() -> None:
    overview_snapshot_refresh()

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert overview_snapshot() is None


def test_the_overview_is_refreshed_every_ten_minutes() -> None:
    refresh_report_overview()

    assert ReportSnapshot.objects.filter(name="overview").exists()
    entry = next(
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "consent.refresh_report_overview"
    )
    assert entry["schedule"] == crontab(minute="*/10")


def read_today(residents) -> None:
    policy.read_profiles(
        resident_ids=[r.pk for r in residents],
        purpose="personalised_home",
        reader=SCORER,
        categories=["places"],
    )


def test_an_ended_day_is_kept_and_read_from_what_was_kept() -> None:
    residents = UserFactory.create_batch(4)
    for resident in residents:
        grant(resident, "personalised_home", "places")
    read_today(residents)
    day = timezone.localdate()
    tomorrow = timezone.now() + timedelta(days=1)

    with time_machine.travel(tomorrow):
        assert roll_up_data_use() >= 1
        # The log is pruned or rewritten: the report still says what the day's log held.
        from consent.models import DataUseEvent

        DataUseEvent.objects.filter(day=day).delete()
        days, readers = data_use_by_day(days=2)

    assert days[0] == day
    assert readers[0].residents_by_day == {day: 4}


def test_a_day_kept_before_it_ended_is_counted_again() -> None:
    residents = UserFactory.create_batch(2)
    for resident in residents:
        grant(resident, "personalised_home", "places")
    today = timezone.localdate()
    data_use_days_roll_up(today=today + timedelta(days=1))  # as if the day had ended: too early
    read_today(residents)

    _days, readers = data_use_by_day(days=1)

    assert readers[0].residents_by_day == {today: 2}


def test_rolling_up_twice_counts_each_day_once() -> None:
    tomorrow = timezone.now() + timedelta(days=1)
    with time_machine.travel(tomorrow):
        first = data_use_days_roll_up()
        again = data_use_days_roll_up()

    assert (first, again) == (30, 0)
