"""Rows written in bulk for tests and benchmarks: COPY on PostgreSQL, bulk_create elsewhere.

Test data, not a flow of the product: it bypasses the services (and their checks) on purpose.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, models


def insert(model: type[models.Model], rows: list[Any]) -> None:
    """PostgreSQL: COPY; elsewhere bulk_create."""
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(rows, batch_size=2000)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.column]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor underneath Django's wrapper
        with raw.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_value(row, f) for f in fields])


def _value(row: models.Model, field: models.Field[Any, Any]) -> Any:
    value = getattr(row, field.attname)
    return json.dumps(value) if isinstance(field, models.JSONField) else value
