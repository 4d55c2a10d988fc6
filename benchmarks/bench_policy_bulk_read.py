"""How fast the consent gate projects profiles for the scoring worker.

    .venv/bin/python benchmarks/bench_policy_bulk_read.py 120000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/machiplus_bench \
        .venv/bin/python benchmarks/bench_policy_bulk_read.py 120000

Setup writes rows in bulk, bypassing the services (it is test data, not a consent flow);
the measured part is exactly what a scoring task calls.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from consent import policy  # noqa: E402
from consent.models import ConsentState, DataCategory, DataUseEvent, Purpose  # noqa: E402
from consent.selectors import current_terms  # noqa: E402
from consent.services import Actor, consent_grant  # noqa: E402
from portal.models import Area, InterestTag, ResidentPlace, ResidentProfile, User  # noqa: E402

PURPOSE = "personalised_home"
CATEGORIES = ["age", "places", "interests"]


def build(n: int) -> list[int]:
    User.objects.filter(email__startswith="bench-").delete()
    municipality, _ = Area.objects.get_or_create(
        code="bench", defaults={"kind": "municipality", "name_ja": "ベンチ市"}
    )
    district, _ = Area.objects.get_or_create(
        code="bench-d",
        defaults={"kind": "district", "name_ja": "ベンチ地区", "parent": municipality},
    )
    users = User.objects.bulk_create(
        [User(email=f"bench-{i}@example.jp", password="!") for i in range(n)], batch_size=5000
    )
    ids = [u.pk for u in users]
    terms = current_terms(purpose_code=PURPOSE)
    assert terms is not None
    # One real ledger event to point the bulk-made states at.
    event = consent_grant(
        resident=users[0],
        terms_id=terms.pk,
        category_codes=CATEGORIES,
        actor=Actor.resident(users[0]),
    )
    purpose = Purpose.objects.get(code=PURPOSE)
    categories = list(DataCategory.objects.filter(code__in=CATEGORIES))
    now = timezone.now()
    ConsentState.objects.filter(resident_id__in=ids[1:]).delete()
    ConsentState.objects.bulk_create(
        [
            ConsentState(
                resident_id=i, purpose=purpose, category=c, status="granted",
                terms=terms, event=event, changed_at=now,
            )
            for i in ids[1:]
            # every third resident has not shared interests
            for c in categories
            if not (c.code == "interests" and i % 3 == 0)
        ],
        batch_size=5000,
    )  # fmt: skip
    profiles = ResidentProfile.objects.bulk_create(
        [ResidentProfile(resident_id=i, birth_year=1950 + i % 60) for i in ids], batch_size=5000
    )
    tag = InterestTag.objects.first()
    assert tag is not None
    through = ResidentProfile.interests.through
    through.objects.bulk_create(
        [through(residentprofile_id=p.pk, interesttag_id=tag.pk) for p in profiles], batch_size=5000
    )
    ResidentPlace.objects.bulk_create(
        [ResidentPlace(resident_id=i, kind="home", area=district) for i in ids], batch_size=5000
    )
    return ids


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    ids = build(n)
    print(f"setup: {n:,} residents in {time.perf_counter() - started:.1f} s ({connection.vendor})")

    DataUseEvent.objects.all().delete()
    reset_queries()
    reader = policy.Reader(kind="task", name="benchmark")
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        projections = policy.read_profiles(resident_ids=ids, purpose=PURPOSE, reader=reader)
        elapsed = time.perf_counter() - started
    with_interests = sum(1 for p in projections.values() if p.interests)
    chunks = -(-n // policy.BULK_CHUNK)
    print(f"read_profiles: {n:,} residents in {elapsed:.2f} s = {n / elapsed:,.0f} residents/s")
    per_chunk = len(queries) / chunks
    print(f"queries: {len(queries)} in all, {per_chunk:.1f} per {policy.BULK_CHUNK:,} residents")
    print(f"projections with interests: {with_interests:,} (expected about {n * 2 // 3:,})")
    print(f"data-use log rows written: {DataUseEvent.objects.count():,}")


if __name__ == "__main__":
    main()
