"""The signed-in home page under load, beside a bare one-query view, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/machiplus_bench \\
        .venv/bin/python benchmarks/bench_home.py [RESIDENTS] [--clients 20] [--seconds 30]

Setup (not timed): RESIDENTS (default 120,000) residents who share their places, age and
interests for the home page (benchmarks/bench_rescore.py's builder, reused when as many are
there already) and 2,000 notices, every stored feed computed. The 500 who sign in use the whole
page (``as_they_use_it``): their home's location and places shared for disaster warnings (the
nearest of the city's 100 shelters), their history for the home page (the Save and Not
interested forms, what was shown written at each visit), a child at a school with three
letters. Then the planner's statistics are brought up to date (ANALYZE).

Then the site runs as in production — gunicorn (gunicorn.conf.py: a process per core, DEBUG off, a
Redis server of its own) — and CLIENTS threads (default 20) each send requests back to back
for SECONDS, each request signed in as one of the 500 residents, at random: first to the bare
view (`/bench/bare/`: the same middleware, one query), then to the home page (`/`: its gate
reads with their data-use log, the stored feed, the warnings, the snow and school cards). Prints
JSON: requests/s, and for each the server time (gunicorn's own measure of the request, from its
access log: what the page costs, without the time a request waits for a free process) and the
client-side latency (what the resident waits, queueing included), p50/p95/p99 in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import runpy
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-home.sqlite3'}")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.bench_policy_bulk_read import EMAIL_PREFIX, clear  # noqa: E402
from benchmarks.bench_rescore import (  # noqa: E402
    NOTICE_PREFIX,
    build_areas,
    build_notices,
    build_residents,
    split,
)
from consent.catalogue import Category, PurposeCode  # noqa: E402
from consent.models import ConsentState  # noqa: E402
from consent.selectors import current_terms  # noqa: E402
from consent.services import Actor, consent_grant  # noqa: E402
from portal.models import Area, School, Shelter, User  # noqa: E402
from portal.notices.models import Category as NoticeCategory  # noqa: E402
from portal.notices.models import Notice, Status, Urgency  # noqa: E402
from portal.residents.services import child_add, profile_set_home_location  # noqa: E402
from recommendations.models import StoredFeed  # noqa: E402
from recommendations.services import feeds_rescore  # noqa: E402
from tests.resilience.processes import RedisServer, free_port, wait_for  # noqa: E402

SIGNED_IN = 500
SHELTERS = 100
BENCH_PREFIX = "bench-home-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("residents", nargs="?", type=int, default=120_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--warnings",
        action="store_true",
        help="a warning in force in every district while the pages load (a disaster's day)",
    )
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    ids = prepare(options.residents)
    signed_in = random.Random(7).sample(ids, min(SIGNED_IN, len(ids)))
    as_they_use_it(signed_in)
    analyse()
    cookies = sessions(signed_in)
    report: dict[str, Any] = {
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "residents": len(ids),
        "clients": options.clients,
        "seconds": options.seconds,
        "web_processes": runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"],
    }
    warnings = warnings_in_force() if options.warnings else []
    report["warnings_in_force"] = len(warnings)
    with tempfile.TemporaryDirectory() as directory:
        redis_server = RedisServer(directory=Path(directory))
        redis_server.start()
        log = Path(directory) / "access.log"
        port = free_port()
        web = start_gunicorn(port, redis_server.url, log)
        try:
            url = f"http://127.0.0.1:{port}"
            for name, path in (("bare_view", "/bench/bare/"), ("home_page", "/")):
                report[name] = load(url, path, cookies, options.clients, options.seconds, log)
        finally:
            web.terminate()
            web.wait(timeout=30)
            redis_server.stop()
            Notice.objects.filter(pk__in=warnings).delete()
    report["home_vs_bare_throughput"] = round(
        report["home_page"]["requests_per_second"] / report["bare_view"]["requests_per_second"],
        2,
    )
    print(json.dumps(report, indent=2))


def prepare(residents: int) -> list[int]:
    ids = list(
        User.objects.filter(email__startswith=EMAIL_PREFIX)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(ids) != residents:
        clear()
        Notice.objects.filter(title_ja__startswith=NOTICE_PREFIX).delete()
        districts = build_areas()
        ids = build_residents(residents, districts)
        build_notices(2_000, districts)
    if StoredFeed.objects.filter(resident_id__in=ids[:: max(1, len(ids) // 100)]).count() < 90:
        for part in split((ids[0], ids[-1]), max(1, len(ids) // 20_000)):
            feeds_rescore(id_range=part)
    return ids


def as_they_use_it(resident_ids: list[int]) -> None:
    """The signed-in residents use the whole page: besides what the rescore reads, they share
    their home's location and places for disaster warnings (the shelters near home), their
    history for the home page (the Save and Not interested forms, and a write of
    what was shown at each visit), and a child at a school with three letters. The city has
    its 100 shelters. Reused when done already."""
    if Shelter.objects.filter(source_id__startswith=BENCH_PREFIX).count() < SHELTERS:
        build_shelters()
    school = build_school()
    enriched = set(
        ConsentState.objects.filter(
            resident_id__in=resident_ids, purpose__code=PurposeCode.SCHOOL_LETTERS
        ).values_list("resident_id", flat=True)
    )
    chooser = random.Random(11)
    to_enrich = User.objects.filter(pk__in=set(resident_ids) - enriched)
    for user in to_enrich:
        _use_all_of_it(user, school, chooser)
    # What they changed dropped their feeds; the worker ranks them again within seconds.
    for resident_id in sorted(set(resident_ids) - enriched):
        feeds_rescore(id_range=(resident_id, resident_id))


@transaction.atomic  # a run stopped half-way leaves no resident half set up
def _use_all_of_it(user: User, school: School, chooser: random.Random) -> None:
    for purpose, categories in (
        (PurposeCode.DISASTER_WARNINGS, [Category.LOCATION, Category.PLACES]),
        (PurposeCode.PERSONALISED_HOME, [Category.INTERACTIONS]),
        (PurposeCode.SCHOOL_LETTERS, [Category.HOUSEHOLD]),
    ):
        terms = current_terms(purpose_code=purpose)
        assert terms is not None
        consent_grant(
            resident=user,
            terms_id=terms.pk,
            category_codes=categories,
            actor=Actor.resident(user),
        )
    profile_set_home_location(
        resident_id=user.pk,
        latitude=Decimal(f"{37.44 + chooser.random() * 0.1:.6f}"),
        longitude=Decimal(f"{139.88 + chooser.random() * 0.1:.6f}"),
    )
    child_add(resident_id=user.pk, school_code=school.code, grade=chooser.randint(1, 6))


def warnings_in_force() -> list[int]:
    """One public warning for each district of the bench city, published now."""
    now = timezone.now()
    ids = []
    for district in Area.objects.filter(code__startswith="bench-d", kind=Area.Kind.DISTRICT):
        warning = Notice.objects.create(
            category=NoticeCategory.DISASTER,
            urgency=Urgency.WARNING,
            status=Status.PUBLISHED,
            title_ja=f"{NOTICE_PREFIX}大雪警報 {district.name_ja}",
            body_ja="本文",
            published_at=now,
            is_public=True,
        )
        warning.areas.add(district)
        ids.append(warning.pk)
    return ids


def build_shelters() -> None:
    """The city's 100 shelters (those of a run stopped half-way are replaced)."""
    Shelter.objects.filter(source_id__startswith=BENCH_PREFIX).delete()
    chooser = random.Random(5)
    area = Area.objects.filter(code__startswith="bench-d").order_by("code").first()
    assert area is not None, "the residents' districts are built first"
    Shelter.objects.bulk_create(
        Shelter(
            source_id=f"{BENCH_PREFIX}{i}",
            kind=Shelter.Kind.SHELTER,
            area=area,
            name_ja=f"ベンチ避難所{i}",
            address="会津若松市",
            latitude=Decimal(f"{37.40 + chooser.random() * 0.2:.6f}"),
            longitude=Decimal(f"{139.85 + chooser.random() * 0.2:.6f}"),
            for_earthquake=True,
        )
        for i in range(SHELTERS)
    )


def build_school() -> School:
    """A school with three letters to its families."""
    area = Area.objects.filter(code__startswith="bench-d").order_by("code").first()
    assert area is not None, "the residents' districts are built first"
    school, _ = School.objects.get_or_create(
        code=f"{BENCH_PREFIX}school",
        defaults={"kind": School.Kind.ELEMENTARY, "area": area, "name_ja": "ベンチ小学校"},
    )
    now = timezone.now()
    if not Notice.objects.filter(school=school).exists():
        Notice.objects.bulk_create(
            Notice(
                category=NoticeCategory.SCHOOL,
                status=Status.PUBLISHED,
                school=school,
                title_ja=f"{NOTICE_PREFIX}学校だより{i}",
                body_ja="本文",
                published_at=now - timedelta(days=i),
            )
            for i in range(3)
        )
    return school


def analyse() -> None:
    """ANALYZE, on PostgreSQL."""
    if connection.vendor == "postgresql":
        # The planner's statistics, as autovacuum keeps them on a site that has run a while.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def sessions(resident_ids: list[int]) -> list[str]:
    """A signed-in session for each resident, as logging in leaves it."""
    keys = []
    for user in User.objects.filter(pk__in=resident_ids):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys.append(store.session_key or "")
    return keys


def start_gunicorn(port: int, redis_url: str, log: Path) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.bench_home_settings",
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "REDIS_URL": redis_url,
        "STATIC_ROOT": str(settings.STATIC_ROOT),
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"), "portal.wsgi",
            f"--bind=127.0.0.1:{port}", "--config=gunicorn.conf.py",
            f"--access-logfile={log}", "--access-logformat=%(U)s %(s)s %(D)s",
        ],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for(lambda: _answers(port), timeout=60, what="gunicorn")
    return process


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


def load(
    url: str, path: str, cookies: list[str], clients: int, seconds: float, log: Path
) -> dict[str, Any]:
    log.write_text("")
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(seed: int) -> None:
        chooser = random.Random(seed)
        with httpx.Client(base_url=url, timeout=30) as session:
            while time.monotonic() < deadline:
                cookie = {settings.SESSION_COOKIE_NAME: chooser.choice(cookies)}
                started = time.perf_counter()
                response = session.get(path, cookies=cookie)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        failures.append(response.status_code)

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(clients)]
    begun = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - begun
    time.sleep(1)  # the access log's last lines
    server = [
        int(line.split()[2]) / 1000
        for line in log.read_text().splitlines()
        if line.split()[0] == path
    ]
    return {
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / took, 1),
        "not_200": len(failures),
        "server_ms": _percentiles(server),
        "client_ms": _percentiles(latencies),
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {}
    cuts = statistics.quantiles(values, n=100)
    return {"p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "p99": round(cuts[98], 1)}


if __name__ == "__main__":
    main()
