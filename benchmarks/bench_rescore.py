"""How fast the worker rescores a whole city: every active notice for every resident.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/machiplus_bench \
        .venv/bin/python benchmarks/bench_rescore.py [RESIDENTS] [NOTICES] \
        [--processes 1,2] [--reuse]

Setup (not timed) writes RESIDENTS (default 120,000) residents in bulk — consents for the
personalised home page (places, age, interests), a home in one of 100 neighbourhoods of 20
districts, a birth year, one to three interests — and NOTICES (default 2,000) published notices:
two in five for everyone, two in five for one or two districts, one in ten for an age band, one
in ten for an interest, in every category, published over the last two weeks.

Measured: ``recommendations.services.feeds_rescore`` over every resident's id range, as the
periodic rescore's range tasks run it (gate read with its data-use log, notice side, scores,
eligibility, diversity, reasons, and the stored feeds' replacement by COPY), first in one
process, then split into equal id ranges over N processes at once (what N worker processes
sharing the group of range tasks do); then the fan-out of one new notice for everyone
(``feeds_fan_out``) and the rescore of one resident with the worker's context built. Prints JSON:
seconds, residents/s, feed entries written, peak resident memory of each process, the speed-up,
the fan-out's seconds and the single rescore's median and worst milliseconds.

Earlier benchmark residents and notices are deleted first (``--reuse`` keeps them when there are
as many as asked): point it at a scratch database.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-rescore.sqlite3'}")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.bench_policy_bulk_read import (  # noqa: E402
    EMAIL_PREFIX,
    clear,
    insert,
    insert_states,
)
from consent.catalogue import Category  # noqa: E402
from consent.models import ConsentState, DataCategory, Purpose  # noqa: E402
from consent.selectors import current_terms  # noqa: E402
from consent.services import Actor, consent_grant  # noqa: E402
from portal.models import Area, InterestTag, ResidentPlace, ResidentProfile, User  # noqa: E402
from portal.notices.models import AGE_BANDS, Notice  # noqa: E402
from portal.notices.models import Category as NoticeCategory  # noqa: E402
from recommendations.models import StoredFeed  # noqa: E402
from recommendations.services import feeds_fan_out, feeds_rescore  # noqa: E402

PURPOSE = "personalised_home"
CATEGORIES = [Category.PLACES, Category.AGE, Category.INTERESTS]
NOTICE_PREFIX = "ベンチ通知"
DISTRICTS, NEIGHBOURHOODS = 20, 5
WORDS = [
    "除雪",
    "避難所",
    "子育て",
    "健康診断",
    "ごみ収集",
    "バス",
    "祭り",
    "図書館",
    "予防接種",
    "道路",
    "工事",
    "水道",
    "防災訓練",
    "講座",
]


def main() -> None:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    residents = int(args[0]) if args else 120_000
    notices = int(args[1]) if len(args) > 1 else 2_000
    processes = [1, 2]
    if "--processes" in sys.argv:
        processes = [int(p) for p in sys.argv[sys.argv.index("--processes") + 1].split(",")]
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    ids = list(
        User.objects.filter(email__startswith=EMAIL_PREFIX)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if "--reuse" not in sys.argv or len(ids) != residents:
        clear()
        Notice.objects.filter(title_ja__startswith=NOTICE_PREFIX).delete()
        districts = build_areas()
        ids = build_residents(residents, districts)
        build_notices(notices, districts)
    else:
        # Only the notices a fan-out added last time go.
        Notice.objects.filter(title_ja__startswith=f"{NOTICE_PREFIX}速報").delete()
    setup = time.perf_counter() - started
    id_range = (ids[0], ids[-1])
    report: dict[str, Any] = {
        "database": connection.vendor,
        "residents": residents,
        "notices": notices,
        "setup_seconds": round(setup, 1),
        "runs": [],
    }
    for count in processes:
        report["runs"].append(run(id_range, count))
    if len(report["runs"]) > 1:
        first = report["runs"][0]["seconds"]
        for entry in report["runs"][1:]:
            entry["speed_up"] = round(first / entry["seconds"], 2)
    report["fan_out"] = {
        urgency: [fan_out_one_notice(urgency, id_range, count) for count in processes]
        for urgency in ("information", "emergency")
    }
    report["one_resident"] = rescore_one_resident(ids)
    print(json.dumps(report, indent=2))


def fan_out_one_notice(urgency: str, id_range: tuple[int, int], processes: int) -> dict[str, Any]:
    """A new notice for everyone, fanned out to every resident's feed: news enters few feeds full
    of notices for their areas; an emergency enters nearly every one. Split into equal id ranges
    over N processes, as the fan-out's group of range tasks runs on N worker processes; each
    process builds its scoring context first (a new notice changes it), as a worker does."""
    notice = Notice.objects.create(
        urgency=urgency,
        category=NoticeCategory.CITY_NEWS,
        status="published",
        title_ja=f"{NOTICE_PREFIX}速報 除雪のお知らせ",
        body_ja="除雪について市からお知らせします。",
        published_at=timezone.now(),
    )
    connections.close_all()
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.starmap(
            fan_out_range, [(notice.pk, part) for part in split(id_range, processes)]
        )
    return {
        "processes": processes,
        "seconds": round(time.perf_counter() - started, 2),
        "residents_read": sum(result["read"] for result in results),
        "feeds_entered": sum(result["entered"] for result in results),
    }


def fan_out_range(notice_id: int, id_range: tuple[int, int]) -> dict[str, int]:
    result = feeds_fan_out(notice_id=notice_id, id_range=id_range)
    return {"read": result.residents_read, "entered": result.feeds_entered}


def rescore_one_resident(ids: list[int]) -> dict[str, Any]:
    """What a consent change costs: one resident's rescore, the scoring context already built
    (as in a running worker). Median and worst of 20 residents."""
    feeds_rescore(id_range=(ids[0], ids[0]))  # builds the worker's context
    times = []
    for resident_id in ids[1 : len(ids) : max(1, len(ids) // 20)][:20]:
        started = time.perf_counter()
        feeds_rescore(id_range=(resident_id, resident_id))
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def run(id_range: tuple[int, int], processes: int) -> dict[str, Any]:
    StoredFeed.objects.filter(resident__email__startswith=EMAIL_PREFIX).delete()
    ranges = split(id_range, processes)
    connections.close_all()  # each process opens its own
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(rescore_range, ranges)
    seconds = time.perf_counter() - started
    scored = sum(result["residents"] for result in results)
    return {
        "processes": processes,
        "seconds": round(seconds, 2),
        "residents_per_second": round(scored / seconds),
        "residents_scored": scored,
        "feed_entries": sum(result["entries"] for result in results),
        "peak_rss_mb_per_process": [result["peak_rss_mb"] for result in results],
        "seconds_per_process": [result["seconds"] for result in results],
    }


def rescore_range(id_range: tuple[int, int]) -> dict[str, Any]:
    started = time.perf_counter()
    result = feeds_rescore(id_range=id_range)
    return {
        "residents": result.residents,
        "entries": result.entries,
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def split(id_range: tuple[int, int], parts: int) -> list[tuple[int, int]]:
    low, high = id_range
    size = (high - low + parts) // parts
    return [(start, min(start + size - 1, high)) for start in range(low, high + 1, size)]


# ------------------------------------------------------------------------------------------------
# Test data
# ------------------------------------------------------------------------------------------------


def build_areas() -> list[Area]:
    city, _ = Area.objects.get_or_create(
        code="bench", defaults={"kind": "municipality", "name_ja": "ベンチ市"}
    )
    districts = []
    for d in range(DISTRICTS):
        district, _ = Area.objects.get_or_create(
            code=f"bench-d{d}",
            defaults={"kind": "district", "name_ja": f"ベンチ地区{d}", "parent": city},
        )
        for n in range(NEIGHBOURHOODS):
            Area.objects.get_or_create(
                code=f"bench-d{d}-n{n}",
                defaults={"kind": "neighbourhood", "name_ja": f"町{n}", "parent": district},
            )
        districts.append(district)
    return districts


def build_residents(n: int, districts: list[Area]) -> list[int]:
    chooser = random.Random(2026)
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
        ],
    )  # fmt: skip
    insert(
        ResidentProfile,
        [ResidentProfile(resident_id=i, birth_year=1940 + i % 70, updated_at=now) for i in ids],
    )
    tags = list(InterestTag.objects.values_list("pk", flat=True))
    profiles = ResidentProfile.objects.filter(resident__email__startswith=EMAIL_PREFIX)
    through = ResidentProfile.interests.through
    insert(
        through,
        [
            through(residentprofile_id=profile_id, interesttag_id=tag)
            for profile_id in profiles.values_list("id", flat=True)
            for tag in chooser.sample(tags, chooser.randint(1, min(3, len(tags))))
        ],
    )
    neighbourhoods = list(
        Area.objects.filter(code__startswith="bench-d", kind="neighbourhood").values_list(
            "pk", flat=True
        )
    )
    insert(
        ResidentPlace,
        [
            ResidentPlace(
                resident_id=i, kind="home", area_id=chooser.choice(neighbourhoods), created_at=now
            )
            for i in ids
        ],
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return ids


def build_notices(n: int, districts: list[Area]) -> None:
    chooser = random.Random(7)
    now = timezone.now()
    categories = [c for c in NoticeCategory.values if c != NoticeCategory.SCHOOL]
    tags = list(InterestTag.objects.all())
    made = Notice.objects.bulk_create(
        [
            Notice(
                category=chooser.choice(categories),
                status="published",
                title_ja=f"{NOTICE_PREFIX}{i} {' '.join(chooser.sample(WORDS, 2))}のお知らせ",
                body_ja="、".join(chooser.sample(WORDS, 5)) + "について市からお知らせします。",
                published_at=now - timedelta(minutes=chooser.randint(0, 14 * 24 * 60)),
                age_bands=[chooser.choice(AGE_BANDS)] if i % 10 == 8 else [],
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    through_areas = Notice.areas.through
    through_areas.objects.bulk_create(
        [
            through_areas(notice_id=notice.pk, area_id=district.pk)
            for i, notice in enumerate(made)
            if i % 10 in (1, 3, 5, 7)
            for district in chooser.sample(districts, chooser.randint(1, 2))
        ],
        batch_size=5000,
    )
    through_interests = Notice.interests.through
    through_interests.objects.bulk_create(
        [
            through_interests(notice_id=notice.pk, interesttag_id=chooser.choice(tags).pk)
            for i, notice in enumerate(made)
            if i % 10 == 9 and tags
        ],
        batch_size=5000,
    )


if __name__ == "__main__":
    main()
