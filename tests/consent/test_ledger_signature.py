"""Every ledger event is signed with a key the database does not hold, so that someone who can
rewrite the database, hashes and all, can no longer rewrite the ledger unseen (finding F4)."""

from __future__ import annotations

import logging
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from consent.checks import ledger_signing_key_check
from consent.ledger import chain_hash, event_payload, verify_chain
from consent.models import ConsentEvent, ConsentTerms, LedgerVerification
from consent.selectors import latest_ledger_verification
from consent.signing import current_signing_key, derived_signing_key, event_signature
from consent.tasks import verify_ledger
from tests.factories import UserFactory
from tests.helpers import as_table_owner, grant, withdraw

pytestmark = pytest.mark.django_db

OLD_KEY = "old-ledger-key-" + "o" * 50
NEW_KEY = "new-ledger-key-" + "n" * 50


@pytest.fixture
def ledger() -> list[ConsentEvent]:
    """A grant, its withdrawal, and a grant after them."""
    resident = UserFactory.create()
    grant(resident, "personalised_home", "age", "places")
    withdraw(resident, purpose="personalised_home")
    grant(resident, "disaster_warnings", "places")
    return list(ConsentEvent.objects.order_by("id"))


def rewrite_recomputing_the_chain(event: ConsentEvent, **changes: str) -> None:
    """What someone with full database access could always do: change an event's columns,
    recompute its hash and every later one, and move the head to the new last hash. Everything
    but the signatures, which take the key."""
    terms_hashes = dict(ConsentTerms.objects.values_list("pk", "content_hash"))
    events = list(ConsentEvent.objects.filter(pk__gte=event.pk).order_by("id"))
    for name, value in changes.items():
        setattr(events[0], name, value)
    previous_hash = events[0].previous_hash
    for index, rewritten in enumerate(events):
        rewritten.previous_hash = previous_hash
        payload = event_payload(rewritten, terms_hash=terms_hashes[rewritten.terms_id])
        rewritten.hash = chain_hash(previous_hash, payload)
        columns = {
            **(changes if index == 0 else {}),
            "previous_hash": rewritten.previous_hash,
            "hash": rewritten.hash,
        }
        as_table_owner(
            "UPDATE consent_consentevent SET "
            + ", ".join(f"{column} = %s" for column in columns)
            + " WHERE id = %s",
            [*columns.values(), rewritten.pk],
            tables=["consent_consentevent"],
        )
        previous_hash = rewritten.hash
    as_table_owner(
        "UPDATE consent_ledgerhead SET last_hash = %s",
        [previous_hash],
        tables=["consent_ledgerhead"],
    )


def test_new_events_are_signed_with_the_current_key(settings: Any) -> None:
    settings.LEDGER_SIGNING_KEY = NEW_KEY
    settings.LEDGER_SIGNING_KEY_FALLBACKS = [OLD_KEY]
    event = grant(UserFactory.create(), "school_letters", "household")
    event.refresh_from_db()
    assert event.signature == event_signature(event.hash, key=NEW_KEY.encode())


def test_without_a_configured_key_events_are_signed_with_one_derived_from_secret_key(
    settings: Any,
) -> None:
    settings.LEDGER_SIGNING_KEY = ""
    event = grant(UserFactory.create(), "school_letters", "household")
    assert event.signature == event_signature(event.hash, key=derived_signing_key().encode())
    assert derived_signing_key() != settings.SECRET_KEY


def test_an_intact_signed_ledger_verifies(ledger) -> None:
    result = verify_chain()
    assert result.intact, result.problem
    assert result.verified == 3


def test_an_event_rewritten_with_a_recomputed_hash_chain_is_caught_by_its_signature(
    ledger,
) -> None:
    """The withdrawal rewritten as a grant, every later hash and the head recomputed: the hash
    chain alone would call this intact."""
    withdrawal = ledger[1]
    rewrite_recomputing_the_chain(withdrawal, kind="grant")

    result = verify_chain()
    assert not result.intact
    assert result.first_bad_event_id == withdrawal.pk
    assert "signature does not verify" in (result.problem or "")


def test_the_verify_command_names_an_event_whose_signature_fails(ledger) -> None:
    rewrite_recomputing_the_chain(ledger[1], channel="counter")
    with pytest.raises(CommandError, match=rf"event #{ledger[1].pk} its signature"):
        call_command("consent_verify_ledger")


def test_a_signature_made_with_a_fallback_key_verifies(settings: Any) -> None:
    settings.LEDGER_SIGNING_KEY = OLD_KEY
    grant(UserFactory.create(), "school_letters", "household")
    settings.LEDGER_SIGNING_KEY = NEW_KEY
    settings.LEDGER_SIGNING_KEY_FALLBACKS = [OLD_KEY]
    grant(UserFactory.create(), "school_letters", "household")

    result = verify_chain()
    assert result.intact, result.problem
    assert result.verified == 2


def test_a_signature_under_an_unknown_key_fails(settings: Any) -> None:
    settings.LEDGER_SIGNING_KEY = OLD_KEY
    event = grant(UserFactory.create(), "school_letters", "household")
    settings.LEDGER_SIGNING_KEY = NEW_KEY
    settings.LEDGER_SIGNING_KEY_FALLBACKS = ["another-key-" + "a" * 50]

    result = verify_chain()
    assert (result.first_bad_event_id, result.verified) == (event.pk, 0)
    assert "signature does not verify" in (result.problem or "")


def test_an_event_without_a_signature_fails(ledger) -> None:
    as_table_owner(
        "UPDATE consent_consentevent SET signature = '' WHERE id = %s",
        [ledger[1].pk],
        tables=["consent_consentevent"],
    )
    result = verify_chain()
    assert result.first_bad_event_id == ledger[1].pk
    assert result.problem == "is not signed"


def test_the_nightly_task_logs_an_error_naming_a_tampered_event(ledger, caplog) -> None:
    rewrite_recomputing_the_chain(ledger[1], kind="grant")
    with caplog.at_level(logging.INFO, logger="consent.tasks"):
        assert verify_ledger() is False
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert f"event #{ledger[1].pk} its signature does not verify" in record.getMessage()


def test_the_nightly_task_logs_info_when_the_ledger_is_intact(ledger, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="consent.tasks"):
        assert verify_ledger() is True
    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert f"intact: 3 events verified, head {ledger[-1].hash}:3" in record.getMessage()


def test_beat_verifies_the_ledger_every_night(settings: Any) -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "consent.verify_ledger" in tasks


def test_deploy_check_warns_while_the_signing_key_is_derived_from_secret_key(
    settings: Any,
) -> None:
    settings.LEDGER_SIGNING_KEY = ""
    assert [message.id for message in ledger_signing_key_check(None)] == ["consent.W001"]


@pytest.mark.parametrize("key", ["short-key", "SECRET_KEY"])
def test_deploy_check_warns_about_a_short_signing_key_or_secret_key_itself(
    settings: Any, key: str
) -> None:
    settings.LEDGER_SIGNING_KEY = settings.SECRET_KEY if key == "SECRET_KEY" else key
    assert [message.id for message in ledger_signing_key_check(None)] == ["consent.W002"]


def test_deploy_check_passes_with_a_long_signing_key_of_its_own(settings: Any) -> None:
    settings.LEDGER_SIGNING_KEY = NEW_KEY
    assert ledger_signing_key_check(None) == []


# ---------------------------------------------------------------------------------------------
# PostgreSQL: the append-only trigger lets an empty signature be filled in, once, and no more
# ---------------------------------------------------------------------------------------------

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger is PostgreSQL's"
)


def unsigned(event: ConsentEvent) -> ConsentEvent:
    """``event`` as it stood before migration 0008 signed it."""
    as_table_owner(
        "UPDATE consent_consentevent SET signature = '' WHERE id = %s",
        [event.pk],
        tables=["consent_consentevent"],
    )
    return event


def refused(sql: str, params: list[Any]) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


@postgresql_only
def test_postgresql_lets_an_empty_signature_be_filled_in(ledger) -> None:
    event = unsigned(ledger[1])
    signature = event_signature(event.hash, key=current_signing_key())
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE consent_consentevent SET signature = %s WHERE id = %s", [signature, event.pk]
        )
    assert verify_chain().intact


@postgresql_only
def test_postgresql_refuses_to_change_a_signature_once_set(ledger) -> None:
    refused(
        "UPDATE consent_consentevent SET signature = %s WHERE id = %s", ["a" * 64, ledger[1].pk]
    )


@postgresql_only
def test_postgresql_refuses_to_change_anything_else_while_filling_in_a_signature(ledger) -> None:
    event = unsigned(ledger[1])
    refused(
        "UPDATE consent_consentevent SET signature = %s, kind = 'grant' WHERE id = %s",
        [event_signature(event.hash, key=current_signing_key()), event.pk],
    )


@postgresql_only
def test_postgresql_refuses_a_signature_that_is_not_hex_hmac_sha256(ledger) -> None:
    event = unsigned(ledger[1])
    refused("UPDATE consent_consentevent SET signature = 'x' WHERE id = %s", [event.pk])


def test_each_verification_is_recorded_with_the_head_it_verified(ledger) -> None:
    assert verify_ledger() is True

    run = latest_ledger_verification()
    assert run is not None
    assert (run.intact, run.chain_intact, run.events_verified, run.head_hash, run.problem) == (
        True,
        True,
        3,
        ledger[-1].hash,
        "",
    )
    assert run.accounts_checked >= 1
    assert run.started_at <= run.finished_at


def test_a_tampered_ledger_is_recorded_as_not_intact_with_the_event_named(ledger) -> None:
    rewrite_recomputing_the_chain(ledger[1], kind="grant")

    assert verify_ledger() is False

    run = latest_ledger_verification()
    assert run is not None
    assert not run.intact and not run.chain_intact
    assert run.events_verified == 1
    assert f"event #{ledger[1].pk} its signature does not verify" in run.problem


def test_the_command_records_its_run_too(ledger) -> None:
    call_command("consent_verify_ledger", stdout=StringIO())

    assert LedgerVerification.objects.count() == 1
    run = latest_ledger_verification()
    assert run is not None and run.intact


def test_the_latest_run_is_the_one_the_reports_show(ledger) -> None:
    verify_ledger()
    rewrite_recomputing_the_chain(ledger[1], kind="grant")
    verify_ledger()

    run = latest_ledger_verification()
    assert run is not None and not run.intact


def test_no_run_yet_means_no_status() -> None:
    assert latest_ledger_verification() is None
