"""The consent ledger is append-only and hash-chained; tampering is detected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from consent.ledger import GENESIS_HASH, verify_chain
from consent.models import ConsentEvent, ConsentState, ImmutableRecordError
from tests.factories import UserFactory
from tests.helpers import as_table_owner, grant, terms_of, withdraw

pytestmark = pytest.mark.django_db

TAMPERABLE = {
    "kind": "'refuse'",
    "subject_pseudonym": "'00000000-0000-0000-0000-000000000000'",
    "purpose_code": "'school_letters'",
    "category_codes": "'[\"age\"]'",
    "recipient_codes": "'[\"operator\"]'",
    "channel": "'api'",
    "actor_kind": "'staff'",
    "paper_form_reference": "'FORGED-1'",
    "occurred_at": "'2020-01-01 00:00:00+00:00'",
    "previous_hash": "'" + "1" * 64 + "'",
    "hash": "'" + "2" * 64 + "'",
    "public_id": "'11111111-1111-1111-1111-111111111111'",
    "signature": "'" + "3" * 64 + "'",
}


@pytest.fixture
def three_events():
    resident = UserFactory.create()
    grant(resident, "personalised_home", "age", "places")
    grant(resident, "disaster_warnings", "places")
    withdraw(resident, purpose="personalised_home")
    return list(ConsentEvent.objects.order_by("id"))


def tamper(event_id: int, column: str, sql_value: str) -> None:
    """Change a row behind the application's back, as someone with database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE consent_consentevent DISABLE TRIGGER USER")
        cursor.execute(
            f"UPDATE consent_consentevent SET {column} = {sql_value} WHERE id = %s", [event_id]
        )
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE consent_consentevent ENABLE TRIGGER USER")


def test_events_are_chained_from_the_genesis_hash(three_events) -> None:
    first, second, third = three_events
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash


def test_verify_command_reports_how_many_events_it_verified(three_events, capsys) -> None:
    call_command("consent_verify_ledger")
    assert "3 events verified" in capsys.readouterr().out


@pytest.mark.parametrize("column", sorted(TAMPERABLE))
def test_tampering_with_any_field_of_an_event_is_detected(three_events, column) -> None:
    middle = three_events[1]
    tamper(middle.pk, column, TAMPERABLE[column])

    result = verify_chain()
    assert not result.intact
    assert result.first_bad_event_id == middle.pk
    with pytest.raises(CommandError, match=f"event #{middle.pk}"):
        call_command("consent_verify_ledger")


def test_removing_the_newest_event_is_detected(three_events) -> None:
    ConsentState.objects.filter(event=three_events[-1]).delete()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE consent_consentevent DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM consent_consentevent WHERE id = %s", [three_events[-1].pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE consent_consentevent ENABLE TRIGGER USER")
    assert "removed" in (verify_chain().problem or "")


def test_the_model_layer_refuses_to_change_an_event(three_events) -> None:
    event = three_events[0]
    event.kind = "refuse"
    with pytest.raises(ImmutableRecordError):
        event.save()
    with pytest.raises(ImmutableRecordError):
        event.delete()


def test_the_model_layer_refuses_bulk_update_and_delete(three_events) -> None:
    with pytest.raises(ImmutableRecordError):
        ConsentEvent.objects.filter(pk=three_events[0].pk).update(kind="refuse")
    with pytest.raises(ImmutableRecordError):
        ConsentEvent.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE consent_consentevent SET channel = 'api' WHERE id = %s",
        "DELETE FROM consent_consentevent WHERE id = %s",
    ],
)
def test_postgresql_refuses_update_and_delete_on_the_ledger(three_events, statement) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [three_events[0].pk])
    assert ConsentEvent.objects.count() == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_to_change_published_terms(three_events) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE consent_consentterms SET retention_days = 9999")


def test_verify_command_also_checks_the_consent_states_against_the_ledger(
    three_events, capsys
) -> None:
    call_command("consent_verify_ledger")
    assert "Consent states match the ledger" in capsys.readouterr().out


def test_a_consent_state_changed_behind_the_ledgers_back_is_detected(three_events) -> None:
    as_table_owner(
        "UPDATE consent_consentstate SET status = 'granted'", tables=["consent_consentstate"]
    )
    with pytest.raises(CommandError, match="do NOT match the ledger"):
        call_command("consent_verify_ledger")


def test_published_terms_changed_in_the_database_are_detected(three_events) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE consent_consentterms DISABLE TRIGGER USER")
        cursor.execute('UPDATE consent_consentterms SET recipient_codes = \'["city", "anyone"]\'')
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE consent_consentterms ENABLE TRIGGER USER")
    assert "changed after they were published" in (verify_chain().problem or "")


def test_removing_the_newest_event_and_rewinding_the_head_hash_is_detected(three_events) -> None:
    last = three_events[-1]
    ConsentState.objects.filter(event=last).delete()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE consent_consentevent DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM consent_consentevent WHERE id = %s", [last.pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE consent_consentevent ENABLE TRIGGER USER")
    as_table_owner(
        "UPDATE consent_ledgerhead SET last_hash = %s",
        [last.previous_hash],
        tables=["consent_ledgerhead"],
    )
    assert "removed" in (verify_chain().problem or "")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("expires_at", None),
        ("expires_at", datetime(2999, 1, 1, tzinfo=UTC)),
        ("changed_at", datetime(2000, 1, 1, tzinfo=UTC)),
    ],
)
def test_a_consent_states_times_changed_behind_the_ledgers_back_are_detected(column, value) -> None:
    """A one-year consent whose expiry is removed or moved would be read as valid for ever."""
    grant(UserFactory.create(), "school_letters", "household")
    as_table_owner(
        f"UPDATE consent_consentstate SET {column} = %s", [value], tables=["consent_consentstate"]
    )
    with pytest.raises(CommandError, match="do NOT match the ledger"):
        call_command("consent_verify_ledger")


def test_terms_published_after_a_consent_to_them_are_detected() -> None:
    """Publishing time is outside the terms' hash (it decides how long replaced terms' data is
    kept): moving it later than the ledger's first event under the terms is caught."""
    grant(UserFactory.create(), "school_letters", "household")
    as_table_owner(
        "UPDATE consent_consentterms SET published_at = %s WHERE id = %s",
        [datetime(2999, 1, 1, tzinfo=UTC), terms_of("school_letters").pk],
        tables=["consent_consentterms"],
    )
    assert "published" in (verify_chain().problem or "")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_to_change_when_terms_were_published(three_events) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE consent_consentterms SET published_at = now()")
