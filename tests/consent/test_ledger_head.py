"""The ledger's head (the hash of its newest event, and how many there are) is printed by the
verifier and logged daily, so that it is also kept outside the database; checked later with
``--expect-head``, it shows a ledger cut back, even with its recorded head rewound to match
(issue 7, finding 5)."""

from __future__ import annotations

import logging
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from consent.ledger import GENESIS_HASH
from consent.models import ConsentEvent
from consent.tasks import log_ledger_head
from tests.factories import UserFactory
from tests.helpers import as_table_owner, grant, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger() -> list[ConsentEvent]:
    resident = UserFactory.create()
    grant(resident, "school_letters", "household")
    grant(resident, "disaster_warnings", "places")
    withdraw(resident, purpose="disaster_warnings")
    return list(ConsentEvent.objects.order_by("id"))


def head_of(events: list[ConsentEvent]) -> str:
    return f"{events[-1].hash}:{len(events)}" if events else f"{GENESIS_HASH}:0"


def verify(*args: str) -> str:
    out = StringIO()
    call_command("consent_verify_ledger", *args, stdout=out)
    return out.getvalue()


def test_verify_command_prints_the_head_hash_and_event_count(ledger) -> None:
    assert f"head: {head_of(ledger)}" in verify()


def test_expect_head_passes_for_the_current_head(ledger) -> None:
    assert "reaches the expected head" in verify("--expect-head", head_of(ledger))


def test_expect_head_passes_for_an_earlier_head_the_ledger_extends(ledger) -> None:
    assert "reaches the expected head" in verify("--expect-head", head_of(ledger[:2]))


def test_expect_head_of_an_empty_ledger_passes_for_any_ledger(ledger) -> None:
    verify("--expect-head", head_of([]))


def test_expect_head_fails_when_that_event_has_another_hash(ledger) -> None:
    with pytest.raises(CommandError, match="does NOT reach the expected head"):
        verify("--expect-head", f"{ledger[0].hash}:2")


def test_expect_head_fails_when_the_ledger_is_shorter(ledger) -> None:
    with pytest.raises(CommandError, match="does NOT reach the expected head"):
        verify("--expect-head", f"{'a' * 64}:4")


def test_expect_head_fails_after_the_ledger_is_emptied_and_its_head_reset(ledger) -> None:
    """Emptied and reset with everything derived from it, the ledger verifies as intact; only
    the head kept outside shows it."""
    tables = ["consent_consentstate", "consent_consentevent", "consent_ledgerhead"]
    as_table_owner("DELETE FROM consent_consenttally", tables=[])
    as_table_owner("DELETE FROM consent_consentstate", tables=tables)
    as_table_owner("DELETE FROM consent_consentevent", tables=tables)
    as_table_owner(
        "UPDATE consent_ledgerhead SET last_hash = %s, event_count = 0",
        [GENESIS_HASH],
        tables=tables,
    )
    assert "intact: 0 events" in verify()

    with pytest.raises(CommandError, match="does NOT reach the expected head"):
        verify("--expect-head", head_of(ledger))


def test_a_ledger_emptied_behind_the_weekly_tallies_back_fails_verification(ledger) -> None:
    tables = ["consent_consentstate", "consent_consentevent", "consent_ledgerhead"]
    as_table_owner("DELETE FROM consent_consentstate", tables=tables)
    as_table_owner("DELETE FROM consent_consentevent", tables=tables)
    as_table_owner(
        "UPDATE consent_ledgerhead SET last_hash = %s, event_count = 0",
        [GENESIS_HASH],
        tables=tables,
    )

    with pytest.raises(CommandError, match="tallies do NOT match"):
        verify()


@pytest.mark.parametrize("value", ["", "abc", f"{'a' * 64}", f"{'a' * 64}:-1", "xyz:3"])
def test_expect_head_must_be_a_hash_and_a_count(value) -> None:
    with pytest.raises(CommandError, match="expect.head"):
        verify("--expect-head", value)


def test_the_daily_task_logs_the_ledger_head(ledger, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="consent.tasks"):
        log_ledger_head()
    assert head_of(ledger) in caplog.text


def test_beat_logs_the_ledger_head_every_day() -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "consent.log_ledger_head" in tasks
