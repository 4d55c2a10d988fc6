"""PostgreSQL's triggers stand against tampering without getting in the way of legitimate
changes: staff deletion (audit log SET_NULL), account deletion, withdrawal, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from consent import policy
from consent.services import Actor, consent_withdraw, consents_expire, paper_form_batch_issue
from portal.models import StaffAuditEntry, User
from tests.factories import StaffFactory, UserFactory
from tests.helpers import grant

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers"),
]


def test_deleting_a_staff_member_keeps_the_audit_log_and_the_register() -> None:
    officer = StaffFactory.create(roles=["consent_officer"])
    batch = paper_form_batch_issue(officer=officer, size=2, issued_to="Counter")
    email = officer.email
    officer.delete()  # SET_NULL on the audit log's actor: an UPDATE the trigger must let through
    entry = StaffAuditEntry.objects.get(reference=f"batch {batch.number}")
    assert (entry.actor_id, entry.actor_email) == (None, email)


def test_account_deletion_withdrawal_and_expiry_still_work_under_the_state_trigger() -> None:
    from portal.residents.services import account_delete  # noqa: PLC0415

    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places", "location")
    consent_withdraw(resident=resident, actor=Actor.resident(resident), category_code="places")
    grant(resident, "school_letters", "household")
    consents_expire(now=timezone.now() + timedelta(days=400))
    assert policy.allowed_categories(resident_id=resident.pk, purpose="school_letters") == set()
    account_delete(user=resident)
    assert not User.objects.filter(pk=resident.pk).exists()
    call_command("consent_verify_ledger")
