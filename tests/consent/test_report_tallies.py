"""The weekly tallies behind the consent reports' trends: kept with each ledger event, equal to
a replay of the ledger, checked by every verification run and rebuilt from the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from consent.models import ConsentTally
from consent.reports.tallies import rebuild_tallies, tallies_problem, week_of
from consent.services import Actor, consent_refuse, consents_expire, ledger_verify
from tests.factories import UserFactory
from tests.helpers import grant, publish_material_change, terms_of, withdraw

pytestmark = pytest.mark.django_db


def tally(purpose: str, category: str) -> dict[str, int]:
    rows = ConsentTally.objects.filter(purpose_code=purpose, category_code=category)
    columns = ("granted", "refused", "withdrawn", "expired", "became_active", "stopped_active")
    return {column: sum(getattr(row, column) for row in rows) for column in columns}


def test_a_week_starts_on_monday_in_the_citys_time_zone() -> None:
    sunday_evening_in_utc = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)  # Monday 01:00 in Tokyo
    assert week_of(sunday_evening_in_utc) == date(2026, 11, 30)
    assert week_of(sunday_evening_in_utc - timedelta(hours=2)) == date(2026, 11, 23)


def test_a_first_grant_counts_a_grant_and_a_consent_becoming_active() -> None:
    grant(UserFactory.create(), "personalised_home", "places", "interests")

    assert tally("personalised_home", "places") == {
        "granted": 1,
        "refused": 0,
        "withdrawn": 0,
        "expired": 0,
        "became_active": 1,
        "stopped_active": 0,
    }
    assert tally("personalised_home", "interests")["became_active"] == 1


def test_agreeing_to_new_terms_over_an_active_consent_counts_a_grant_but_no_new_consent() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    publish_material_change("personalised_home")
    grant(resident, "personalised_home", "places")

    counts = tally("personalised_home", "places")
    assert (counts["granted"], counts["became_active"]) == (2, 1)


def test_a_withdrawal_counts_a_consent_stopping() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    withdraw(resident, purpose="personalised_home", category="places")

    counts = tally("personalised_home", "places")
    assert (counts["withdrawn"], counts["stopped_active"]) == (1, 1)


def test_refusing_what_was_never_granted_counts_a_refusal_and_nothing_stopping() -> None:
    resident = UserFactory.create()
    consent_refuse(
        resident=resident,
        terms_id=terms_of("disaster_warnings").pk,
        category_codes=["location"],
        actor=Actor.resident(resident),
    )

    counts = tally("disaster_warnings", "location")
    assert (counts["refused"], counts["became_active"], counts["stopped_active"]) == (1, 0, 0)


def test_a_lapsed_consent_counts_an_expiry_in_the_week_it_lapsed() -> None:
    grant(UserFactory.create(), "personalised_home", "places")
    replaced = publish_material_change("personalised_home")  # and never agreed to again
    later = replaced.published_at + timedelta(days=terms_of("personalised_home").retention_days)

    consents_expire(now=later)

    expiry = ConsentTally.objects.get(purpose_code="personalised_home", expired=1)
    assert expiry.week == week_of(later)
    assert expiry.stopped_active == 1


@pytest.fixture
def history():
    residents = UserFactory.create_batch(4)
    for resident in residents:
        grant(resident, "personalised_home", "places", "interests")
    withdraw(residents[0], purpose="personalised_home", category="interests")
    withdraw(residents[1], purpose="personalised_home")
    grant(residents[1], "personalised_home", "places")
    consent_refuse(
        resident=residents[2],
        terms_id=terms_of("school_letters").pk,
        category_codes=["household"],
        actor=Actor.resident(residents[2]),
    )
    return residents


def test_the_tallies_equal_a_replay_of_the_ledger(history) -> None:
    assert tallies_problem() is None


def test_a_verification_run_finds_a_tally_that_differs_from_the_ledger(history) -> None:
    ConsentTally.objects.filter(category_code="places").update(granted=99)

    run = ledger_verify()

    assert run.tallies_intact is False
    assert "personalised_home/places" in run.problem
    assert run.intact  # the ledger and the consent states themselves are fine


def test_rebuilding_the_tallies_from_the_ledger_repairs_them(history) -> None:
    ConsentTally.objects.filter(category_code="places").delete()

    call_command("consent_rebuild_tallies")

    assert tallies_problem() is None
    assert ledger_verify().tallies_intact is True


def test_the_verify_command_fails_while_the_tallies_differ_from_the_ledger(history) -> None:
    ConsentTally.objects.filter(category_code="interests").update(withdrawn=0)

    with pytest.raises(CommandError, match="tallies do NOT match"):
        call_command("consent_verify_ledger")


def test_rebuilding_changes_nothing_when_the_tallies_are_right(history) -> None:
    before = set(ConsentTally.objects.values_list("week", "category_code", "granted", "withdrawn"))

    rebuild_tallies()

    after = set(ConsentTally.objects.values_list("week", "category_code", "granted", "withdrawn"))
    assert after == before


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_events_already_in_the_ledger() -> None:
    residents = UserFactory.create_batch(3)
    for resident in residents:
        grant(resident, "personalised_home", "places")
    withdraw(residents[0], purpose="personalised_home")
    executor = MigrationExecutor(connection)
    executor.migrate([("consent", "0010_consent_reports_permission")])
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert tally("personalised_home", "places") == {
        "granted": 3,
        "refused": 0,
        "withdrawn": 1,
        "expired": 0,
        "became_active": 3,
        "stopped_active": 1,
    }
