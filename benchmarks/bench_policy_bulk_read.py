"""How fast the consent gate reads a whole city for the scoring worker, and what it logs.

    .venv/bin/python benchmarks/bench_policy_bulk_read.py 120000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/machiplus_bench \
        .venv/bin/python benchmarks/bench_policy_bulk_read.py 120000 [CHUNK_SIZE]

Setup writes N residents (consent states, profiles, interests, places) in bulk, with COPY on
PostgreSQL, bypassing the services: it is test data, not a consent flow. Earlier benchmark
residents are deleted first, so point it at a scratch database.

The measured part is exactly what a scoring range task calls: iter_profile_chunks over the
residents with a grant, chunk by chunk, each chunk's data-use log write included. It runs twice,
as a nightly rescore and a notice fan-out on one day would; the log must then hold one row per
resident, counting two uses.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from consent import policy  # noqa: E402
from consent.catalogue import Category, RecipientCode  # noqa: E402
from consent.models import ConsentState, DataCategory, DataUseEvent, Purpose  # noqa: E402
from consent.selectors import current_terms, resident_id_ranges  # noqa: E402
from consent.services import Actor, consent_grant  # noqa: E402
from portal.models import Area, InterestTag, ResidentPlace, ResidentProfile, User  # noqa: E402
from tests.bulk import insert  # noqa: E402

PURPOSE = "personalised_home"
CATEGORIES = [Category.AGE, Category.PLACES, Category.INTERESTS]
EMAIL_PREFIX = "bench-"
READER = policy.Reader(kind="task", name="benchmark", recipient=RecipientCode.CITY)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    chunk_size = int(sys.argv[2]) if len(sys.argv) > 2 else policy.RANGE_CHUNK
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    clear()
    build(n)
    print(f"database: {connection.vendor}")
    print(f"setup: {n:,} residents in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    ranges = resident_id_ranges(purpose=PURPOSE, size=n)
    print(f"resident_id_ranges: {len(ranges)} range in {time.perf_counter() - started:.2f} s")
    for attempt in (1, 2):
        read_everyone(ranges, chunk_size=chunk_size, attempt=attempt)

    uses = DataUseEvent.objects.filter(resident__email__startswith=EMAIL_PREFIX)
    counted = uses.aggregate(total=Sum("use_count"))["total"] or 0
    print(f"data-use log after two reads: {uses.count():,} rows counting {counted:,} uses")


def read_everyone(ranges: Sequence[tuple[int, int]], *, chunk_size: int, attempt: int) -> None:
    chunks = read = with_interests = 0
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        for id_range in ranges:
            for chunk in policy.iter_profile_chunks(
                purpose=PURPOSE,
                reader=READER,
                categories=CATEGORIES,
                id_range=id_range,
                chunk_size=chunk_size,
            ):
                chunks += 1
                read += len(chunk)
                with_interests += len(set(chunk.interest_resident_index or ()))
        elapsed = time.perf_counter() - started
    selects = sum(1 for query in queries if query["sql"].startswith("SELECT"))
    print(
        f"read {attempt}: {read:,} residents in {elapsed:.2f} s = {read / elapsed:,.0f} "
        f"residents/s, log write included; {chunks} chunks of up to {chunk_size:,}; "
        f"per chunk {len(queries) / chunks:.1f} statements, of them {selects / chunks:.1f} "
        f"SELECTs (the rest: transaction control and the log's upsert); "
        f"{with_interests:,} with interests (expected about {read * 2 // 3:,})"
    )


# ------------------------------------------------------------------------------------------------
# Test data
# ------------------------------------------------------------------------------------------------


def clear() -> None:
    """Delete earlier benchmark residents and every row pointing at them, in plain SQL: the
    ORM's cascade would fetch each of them first."""
    bench_users = (
        f"SELECT id FROM {User._meta.db_table} WHERE email LIKE %s",
        [f"{EMAIL_PREFIX}%"],
    )
    through = ResidentProfile.interests.through._meta.db_table
    profiles = ResidentProfile._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {through} WHERE residentprofile_id IN "
            f"(SELECT id FROM {profiles} WHERE resident_id IN ({bench_users[0]}))",
            bench_users[1],
        )
        for relation in User._meta.get_fields(include_hidden=True):
            if relation.auto_created and not relation.concrete and relation.related_model:
                related = relation.related_model
                assert isinstance(related, type) and issubclass(related, models.Model)
                field: Any = relation.field  # type: ignore[union-attr]
                if relation.many_to_many:  # e.g. a department's members: its through table
                    table, column = field.m2m_db_table(), field.m2m_reverse_name()
                else:
                    table, column = related._meta.db_table, field.column
                with _triggers_off(cursor, table):  # the ledger refuses deletes otherwise
                    cursor.execute(
                        f"DELETE FROM {table} WHERE {column} IN ({bench_users[0]})",
                        bench_users[1],
                    )
        cursor.execute(
            f"DELETE FROM {User._meta.db_table} WHERE email LIKE %s", [f"{EMAIL_PREFIX}%"]
        )


def build(n: int) -> None:
    district = _district()
    now = timezone.now()
    insert(User, [User(email=f"{EMAIL_PREFIX}{i}@example.jp", password="!") for i in range(n)])
    ids = list(
        User.objects.filter(email__startswith=EMAIL_PREFIX)
        .order_by("id")
        .values_list("id", flat=True)
    )
    terms = current_terms(purpose_code=PURPOSE)
    assert terms is not None
    first = User.objects.get(pk=ids[0])
    # One real ledger event to point the bulk-made states at.
    event = consent_grant(
        resident=first, terms_id=terms.pk, category_codes=CATEGORIES, actor=Actor.resident(first)
    )
    purpose = Purpose.objects.get(code=PURPOSE)
    categories = list(DataCategory.objects.filter(code__in=CATEGORIES))
    insert_states(
        [
            ConsentState(
                resident_id=i, purpose=purpose, category=category, status="granted",
                terms=terms, event=event, changed_at=now,
            )
            for i in ids[1:]
            for category in categories
            # every third resident has not shared interests
            if not (category.code == Category.INTERESTS and i % 3 == 0)
        ],
    )  # fmt: skip
    insert(
        ResidentProfile,
        [ResidentProfile(resident_id=i, birth_year=1950 + i % 60, updated_at=now) for i in ids],
    )
    tag = InterestTag.objects.first()
    assert tag is not None
    through = ResidentProfile.interests.through
    insert(
        through,
        [
            through(residentprofile_id=profile_id, interesttag_id=tag.pk)
            for profile_id in ResidentProfile.objects.filter(
                resident__email__startswith=EMAIL_PREFIX
            ).values_list("id", flat=True)
        ],
    )
    insert(
        ResidentPlace,
        [ResidentPlace(resident_id=i, kind="home", area=district, created_at=now) for i in ids],
    )
    if connection.vendor == "postgresql":
        # As autovacuum leaves a city's tables: statistics for the planner, visibility map set.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def insert_states(rows: list[ConsentState]) -> None:
    """Consent states made in bulk: on PostgreSQL with the ledger's triggers off while they go
    in (they refuse a state no ledger event of its own says), as the tables' owner could."""
    with connection.cursor() as cursor, _triggers_off(cursor, ConsentState._meta.db_table):
        insert(ConsentState, list(rows))


@contextmanager
def _triggers_off(cursor: Any, table: str) -> Iterator[None]:
    """PostgreSQL: the table's own triggers (not its foreign keys) off, as its owner may."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def _district() -> Area:
    municipality, _ = Area.objects.get_or_create(
        code="bench", defaults={"kind": "municipality", "name_ja": "ベンチ市"}
    )
    district, _ = Area.objects.get_or_create(
        code="bench-d",
        defaults={"kind": "district", "name_ja": "ベンチ地区", "parent": municipality},
    )
    return district


if __name__ == "__main__":
    main()
