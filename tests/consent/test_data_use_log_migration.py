"""Migrating the data-use log from a row per read to a row per day keeps every use counted."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import UserFactory

BEFORE = [("consent", "0004_data_use_recipient")]
AFTER = [("consent", "0005_data_use_log_counts_uses_per_day")]


@pytest.fixture
def migrator():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_reads_of_one_day_become_one_row_counting_them(migrator) -> None:
    resident = UserFactory.create()
    old = migrator.loader.project_state(BEFORE).apps.get_model("consent", "DataUseEvent")
    morning = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # 2 December, 08:00 in Tokyo
    evening = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    next_day = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # 3 December, 01:00 in Tokyo
    common = {
        "resident_id": resident.pk,
        "purpose_code": "personalised_home",
        "reader_kind": "task",
        "reader_name": "scorer",
        "recipient_code": "city",
    }
    old.objects.create(**common, category_codes=["places"], at=evening)
    old.objects.create(**common, category_codes=["interests"], at=morning)
    old.objects.create(**common, category_codes=["places"], at=next_day)
    old.objects.create(
        **{**common, "purpose_code": "subject_access", "recipient_code": ""},
        category_codes=["age"],
        at=morning,
    )

    migrator.loader.build_graph()
    migrator.migrate(AFTER)

    new = migrator.loader.project_state(AFTER).apps.get_model("consent", "DataUseEvent")
    rows = new.objects.order_by("day").values_list(
        "purpose_code", "day", "use_count", "category_mask", "first_at", "last_at"
    )
    assert list(rows) == [
        ("personalised_home", date(2026, 12, 2), 2, 0b1010, morning, evening),
        ("personalised_home", date(2026, 12, 3), 1, 0b0010, next_day, next_day),
    ]
