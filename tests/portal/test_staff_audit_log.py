"""The staff audit log: written once, never changed, and it outlives the staff account."""

from __future__ import annotations

import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from portal.models import StaffAuditEntry
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _entry() -> StaffAuditEntry:
    return StaffAuditEntry.objects.record(
        actor=StaffFactory.create(),
        action="consent.counter.grant",
        subject_pseudonym=uuid.uuid4(),
        reference="MP-000001-8",
        detail={"purpose": "city_news"},
        ip_address="192.0.2.10",
    )


def test_an_entry_names_the_staff_member_and_the_resident_only_by_pseudonym() -> None:
    entry = _entry()
    entry.refresh_from_db()
    assert entry.actor_email.startswith("staff")
    assert isinstance(entry.subject_pseudonym, uuid.UUID)
    assert entry.reference == "MP-000001-8"


def test_entries_cannot_be_changed_or_deleted_through_the_orm() -> None:
    entry = _entry()
    entry.action = "something.else"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        StaffAuditEntry.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(PermissionError):
        StaffAuditEntry.objects.all().delete()


def test_deleting_the_staff_account_keeps_its_entries_with_the_email() -> None:
    entry = _entry()
    actor_email = entry.actor_email
    assert entry.actor is not None
    entry.actor.delete()
    entry.refresh_from_db()
    assert entry.actor is None
    assert entry.actor_email == actor_email


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE portal_staffauditentry SET action = 'forged'",
        "UPDATE portal_staffauditentry SET actor_id = NULL, reference = 'forged'",
        "DELETE FROM portal_staffauditentry",
    ],
)
def test_postgresql_refuses_to_rewrite_the_audit_log(statement: str) -> None:
    _entry()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_to_truncate_the_audit_log_outside_a_test_flush() -> None:
    _entry()
    with (
        pytest.raises(DatabaseError, match="TRUNCATE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # As a production database would: without the test database's permission to flush.
        cursor.execute("SET LOCAL consent.allow_test_flush = 'off'")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE portal_staffauditentry")
    assert StaffAuditEntry.objects.count() == 1
