"""The consent reports' overview: its numbers for a known set of residents, counted by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from consent.reports.selectors import overview
from consent.services import Actor, consent_grant
from consent.tasks import verify_ledger
from tests.factories import StaffFactory, UserFactory
from tests.helpers import grant, publish_material_change, terms_of, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    """Twelve residents (one shares nothing), and three accounts that are not residents'."""
    residents = UserFactory.create_batch(12)
    StaffFactory.create()
    UserFactory.create().groups.add(Group.objects.create(name="a role"))
    UserFactory.create(is_active=False)
    for resident in residents[:10]:
        grant(resident, "personalised_home", "places")
    for resident in residents[:3]:
        grant(resident, "disaster_warnings", "location")
    withdraw(residents[3], purpose="personalised_home", category="places")
    clerk = StaffFactory.create()
    consent_grant(
        resident=residents[11],
        terms_id=terms_of("school_letters").pk,
        category_codes=["household"],
        actor=Actor.counter_staff(clerk, paper_form_reference="MP-0001"),
    )
    return residents


def uptake(report, code: str) -> int:
    return next(purpose.residents for purpose in report.per_purpose if purpose.code == code)


def test_the_overview_counts_residents_and_what_they_share(city) -> None:
    report = overview()

    assert report.registered == 12
    assert report.consenting == 10  # nine sharing for the home page or warnings, one letters
    assert uptake(report, "personalised_home") == 9
    assert uptake(report, "disaster_warnings") == 3
    assert uptake(report, "school_letters") == 1
    assert report.withdrew_recently == 1
    assert report.at_the_counter == 1
    assert report.to_consent_again == 0


def test_a_withdrawal_more_than_thirty_days_ago_is_not_recent(city) -> None:
    assert overview(now=timezone.now() + timedelta(days=31)).withdrew_recently == 0


def test_terms_changed_materially_make_their_residents_wait_to_consent_again(city) -> None:
    publish_material_change("disaster_warnings")

    report = overview()

    assert report.to_consent_again == 3
    assert uptake(report, "disaster_warnings") == 0
    assert report.consenting == 10  # the three still share for their home page


def test_the_overview_shows_the_latest_ledger_verification(city) -> None:
    assert overview().ledger is None

    verify_ledger()

    ledger = overview().ledger
    assert ledger is not None and ledger.intact


def test_every_purpose_is_listed_even_with_nobody_sharing_for_it() -> None:
    report = overview()

    assert {purpose.code for purpose in report.per_purpose} >= {
        "personalised_home",
        "disaster_warnings",
        "school_letters",
    }
    assert all(purpose.residents == 0 for purpose in report.per_purpose)
