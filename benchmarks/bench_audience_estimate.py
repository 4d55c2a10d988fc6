"""How long an area-targeted audience estimate takes over a city of N residents.

    .venv/bin/python benchmarks/bench_audience_estimate.py 120000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/machiplus_bench \
        .venv/bin/python benchmarks/bench_audience_estimate.py 120000

Setup writes N residents in bulk (with COPY on PostgreSQL), bypassing the services as
bench_policy_bulk_read.py does (whose clear and insert it reuses): one municipality of four
districts of five neighbourhoods each, every resident's home in one neighbourhood; every fifth
resident has not shared places with the home page, so is neither counted nor read. Earlier
benchmark residents are deleted first, so point it at a scratch database.

The measured part is what the console's estimate does: portal.notices.audience.estimate_audience
for a notice targeted at one district (its neighbourhoods included), i.e. consent.policy's
chunked permission and places read over every resident, the data-use log write of each resident
read included. It runs cold, then again with the same targeting (answered from the cache).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.bench_policy_bulk_read import (  # noqa: E402  (sets Django up)
    EMAIL_PREFIX,
    clear,
    insert,
    insert_states,
)
from consent.catalogue import Category  # noqa: E402
from consent.models import ConsentState, DataCategory, DataUseEvent, Purpose  # noqa: E402
from consent.selectors import current_terms  # noqa: E402
from consent.services import Actor, consent_grant  # noqa: E402
from portal.models import Area, ResidentPlace, User  # noqa: E402
from portal.notices import audience  # noqa: E402
from portal.notices.services import Targeting  # noqa: E402

PURPOSE = "personalised_home"
DISTRICTS = 4
NEIGHBOURHOODS = 5


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    clear()
    target, expected = build(n)
    staff = User.objects.create(email=f"{EMAIL_PREFIX}staff@example.jp", password="!")
    print(f"database: {connection.vendor}")
    print(f"setup: {n:,} residents in {time.perf_counter() - started:.1f} s")

    targeting = Targeting(area_codes=[target.code])
    cache.delete(audience._cache_key(PURPOSE, audience.audience_spec(targeting)))
    for attempt in ("cold", "cached"):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = audience.estimate_audience(
                targeting=targeting, category="city_news", staff=staff
            )
            elapsed = time.perf_counter() - started
        print(
            f"estimate ({attempt}): {elapsed:.2f} s, {len(queries)} statements; "
            f'"{result.display}" (exact: {expected:,})'
        )
    logged = DataUseEvent.objects.filter(staff_account_id=staff.pk)
    uses = logged.aggregate(total=Sum("use_count"))["total"] or 0
    print(f"data-use log: {logged.count():,} rows counting {uses:,} uses (residents read)")


def build(n: int) -> tuple[Area, int]:
    """N residents, as described above; the targeted district and how many it reaches."""
    neighbourhoods = _areas()
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
        resident=first,
        terms_id=terms.pk,
        category_codes=[Category.PLACES, Category.AGE],
        actor=Actor.resident(first),
    )
    purpose = Purpose.objects.get(code=PURPOSE)
    places = DataCategory.objects.get(code=Category.PLACES)
    age = DataCategory.objects.get(code=Category.AGE)
    shares = {i for position, i in enumerate(ids) if position == 0 or position % 5}
    insert_states(
        [
            ConsentState(
                resident_id=i, purpose=purpose, category=category, status="granted",
                terms=terms, event=event, changed_at=now,
            )
            for i in ids[1:]
            # every fifth resident shares only their age band, not their places
            for category in ((places, age) if i in shares else (age,))
        ],
    )  # fmt: skip
    insert(
        ResidentPlace,
        [
            ResidentPlace(
                resident_id=i,
                kind="home",
                area=neighbourhoods[position % len(neighbourhoods)],
                created_at=now,
            )
            for position, i in enumerate(ids)
        ],
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    target = neighbourhoods[0].parent
    assert target is not None
    expected = sum(
        1
        for position, i in enumerate(ids)
        if i in shares and neighbourhoods[position % len(neighbourhoods)].parent_id == target.pk
    )
    return target, expected


def _areas() -> list[Area]:
    municipality, _ = Area.objects.get_or_create(
        code="bench", defaults={"kind": "municipality", "name_ja": "ベンチ市"}
    )
    neighbourhoods = []
    for d in range(DISTRICTS):
        district, _ = Area.objects.get_or_create(
            code=f"bench-d{d}",
            defaults={"kind": "district", "name_ja": f"ベンチ地区{d}", "parent": municipality},
        )
        for k in range(NEIGHBOURHOODS):
            neighbourhood, _ = Area.objects.get_or_create(
                code=f"bench-d{d}-n{k}",
                defaults={"kind": "neighbourhood", "name_ja": f"ベンチ{d}-{k}", "parent": district},
            )
            neighbourhoods.append(neighbourhood)
    return neighbourhoods


if __name__ == "__main__":
    main()
