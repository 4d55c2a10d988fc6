"""Migration 0008 signs the events recorded before it, so the ledger verifies after it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from consent.ledger import GENESIS_HASH, chain_hash, event_payload, verify_chain
from consent.models import ConsentEvent
from consent.signing import event_signature

BEFORE = [("consent", "0007_paper_form_register")]
AFTER = [("consent", "0008_ledger_event_signature")]
MIGRATION_KEY = "the-key-the-migration-role-has-" + "m" * 40


@pytest.fixture
def migrator():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def append_unsigned_events(apps: Any, count: int) -> None:
    """Events as append_event recorded them before 0008: chained, moving the head, unsigned."""
    event_model = apps.get_model("consent", "ConsentEvent")
    head_model = apps.get_model("consent", "LedgerHead")
    terms = list(apps.get_model("consent", "ConsentTerms").objects.order_by("pk")[:2])
    head = head_model.objects.create(singleton=1, last_hash=GENESIS_HASH, event_count=0)
    start = timezone.now()
    for index in range(count):
        chosen = terms[index % len(terms)]
        event = event_model(
            kind="grant",
            subject_pseudonym=uuid4(),
            terms=chosen,
            purpose_code=chosen.purpose.code,
            category_codes=sorted(chosen.category_codes),
            recipient_codes=sorted(chosen.recipient_codes),
            channel="web",
            actor_kind="resident",
            actor_pseudonym=None,
            paper_form_reference="",
            occurred_at=start + timedelta(seconds=index),
            previous_hash=head.last_hash,
        )
        event.hash = chain_hash(
            head.last_hash, event_payload(event, terms_hash=chosen.content_hash)
        )
        event.save()
        head.last_hash = event.hash
        head.event_count += 1
        head.save()


@pytest.mark.django_db(transaction=True)
def test_migration_signs_every_existing_event_so_the_ledger_verifies(migrator, settings) -> None:
    assert not ConsentEvent.objects.exists()
    append_unsigned_events(migrator.loader.project_state(BEFORE).apps, 5)

    settings.LEDGER_SIGNING_KEY = MIGRATION_KEY
    migrator.loader.build_graph()
    migrator.migrate(AFTER)

    result = verify_chain()
    assert result.intact, result.problem
    assert result.verified == 5
    assert all(
        event.signature == event_signature(event.hash, key=MIGRATION_KEY.encode())
        for event in ConsentEvent.objects.all()
    )


@pytest.mark.django_db(transaction=True)
def test_migrating_back_drops_the_signature(migrator) -> None:
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, "consent_consentevent")
    assert "signature" not in {column.name for column in columns}
