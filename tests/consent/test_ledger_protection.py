"""On PostgreSQL the database itself keeps the ledger whole: no TRUNCATE, a head that only
moves one event forward, and consent states that say only what their ledger event says.

The application role could otherwise do all of these with plain SQL (issue 7, finding 5).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from consent.ledger import GENESIS_HASH
from consent.models import ConsentEvent, LedgerHead
from tests.factories import UserFactory
from tests.helpers import grant, withdraw

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"),
]


@pytest.fixture
def ledger() -> list[ConsentEvent]:
    resident = UserFactory.create()
    grant(resident, "school_letters", "household")
    grant(resident, "disaster_warnings", "places")
    withdraw(resident, purpose="disaster_warnings")
    return list(ConsentEvent.objects.order_by("id"))


def refused(sql: str, params: list[Any] | None = None) -> None:
    """Run ``sql`` as the application role could, as a production database would: without the
    test database's permission to flush (tests/conftest.py)."""
    with (
        pytest.raises(DatabaseError, match="refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL consent.allow_test_flush = 'off'")
        # Checks of the test's own inserts would otherwise stop a TRUNCATE before its trigger.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    "table", ["consent_consentevent", "consent_consentterms", "consent_ledgerhead"]
)
def test_postgresql_refuses_to_truncate_the_ledger(ledger, table) -> None:
    refused(f"TRUNCATE {table} CASCADE")
    assert ConsentEvent.objects.count() == 3


def test_postgresql_refuses_to_rewind_the_ledger_head(ledger) -> None:
    refused(
        "UPDATE consent_ledgerhead SET last_hash = %s, event_count = event_count - 1",
        [ledger[-1].previous_hash],
    )


def test_postgresql_refuses_to_reset_the_ledger_head(ledger) -> None:
    refused("UPDATE consent_ledgerhead SET last_hash = %s, event_count = 0", [GENESIS_HASH])


def test_postgresql_refuses_a_head_one_step_on_that_no_event_follows_to(ledger) -> None:
    refused("UPDATE consent_ledgerhead SET last_hash = %s, event_count = 4", ["f" * 64])


def test_postgresql_refuses_to_delete_the_ledger_head(ledger) -> None:
    refused("DELETE FROM consent_ledgerhead")
    assert LedgerHead.objects.get().event_count == 3


def test_the_head_still_moves_with_every_appended_event(ledger) -> None:
    event = grant(UserFactory.create(), "disaster_warnings", "places")
    head = LedgerHead.objects.get()
    assert (head.last_hash, head.event_count) == (event.hash, 4)


@pytest.mark.parametrize(
    "assignment",
    [
        "status = 'granted'",
        "expires_at = NULL",
        "expires_at = expires_at + interval '1 year'",
        "changed_at = changed_at - interval '1 day'",
        "terms_id = (SELECT max(id) FROM consent_consentterms WHERE id <> terms_id)",
        "event_id = (SELECT min(id) FROM consent_consentevent)",
    ],
)
def test_postgresql_refuses_a_consent_state_its_ledger_event_does_not_say(
    ledger, assignment
) -> None:
    refused(f"UPDATE consent_consentstate SET {assignment}")


def test_postgresql_refuses_a_consent_state_for_another_residents_event(ledger) -> None:
    other = UserFactory.create()
    refused("UPDATE consent_consentstate SET resident_id = %s", [other.pk])


def test_postgresql_refuses_a_consent_state_of_an_event_a_later_one_replaced(ledger) -> None:
    """The withdrawal, not the grant before it, is where disaster_warnings/places stands."""
    refused(
        "UPDATE consent_consentstate SET status = 'granted', event_id = %s WHERE event_id = %s",
        [ledger[1].pk, ledger[2].pk],
    )
