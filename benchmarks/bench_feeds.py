"""How fast the connectors ingest documents, and how long a poll of unchanged sources takes.

    .venv/bin/python benchmarks/bench_feeds.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/machiplus_bench \
        .venv/bin/python benchmarks/bench_feeds.py

1. Every JMA 防災情報XML and CAP sample (../shared/data/jmaxml and cap when present, else the
   copies in tests/feeds/fixtures; not the Atom feed listing JMA documents), each ingested as
   the ``ingest_*`` commands do (parse, map areas, store through notice_ingest, run record). So
   that the samples of all Japan and of North America make notices instead of being skipped as
   "not our areas", every
   area code they name is first mapped to one benchmark area. Then the same documents again
   (every version already ingested: the idempotent path). Prints documents/s for each.
2. A generated RSS feed of 1,000 entries: ingested, then again unchanged; items/s.
3. 50 sources on a local HTTP server (tests/feeds/server.py), polled once (200), then polled
   again, all unchanged (304 Not Modified): the seconds the second round takes, one worker
   process polling them one after another.

Feed data of earlier runs (notices from feeds, series, runs, sources) is deleted first, so point
it at a scratch database.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-feeds.sqlite3'}")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from portal.feeds.models import AreaCode, FetchedDocument, Kind, Run, Source  # noqa: E402
from portal.feeds.parsing.cap import parse_cap  # noqa: E402
from portal.feeds.parsing.documents import DocumentRefused  # noqa: E402
from portal.feeds.parsing.jmaxml import parse_jmaxml  # noqa: E402
from portal.feeds.services import finish_run, ingest_document, source_poll  # noqa: E402
from portal.models import Area  # noqa: E402
from portal.notices.models import FeedSeries, Notice, NoticeEvent  # noqa: E402
from tests.feeds.server import feed_server  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
FIXTURES = ROOT / "tests" / "feeds" / "fixtures"
SOURCES = 50


def main() -> None:
    # Every refused sample is logged at WARNING; the figures are what this prints.
    logging.getLogger("portal.feeds").setLevel(logging.ERROR)
    call_command("migrate", verbosity=0)
    clear()
    area = Area.objects.get_or_create(
        code="bench-feeds", defaults={"kind": "municipality", "name_ja": "ベンチ市"}
    )[0]
    base = SHARED if (SHARED / "jmaxml").is_dir() else FIXTURES
    cap_files = [p for p in sorted((base / "cap").rglob("*")) if p.suffix in {".xml", ".cap"}]
    # JMA's Atom feed sample lists documents and holds none: the poll test reads it.
    jma_files = [p for p in sorted((base / "jmaxml").rglob("*.xml")) if "atom_feed" not in p.name]
    documents = [(str(Kind.JMA), p) for p in jma_files] + [(str(Kind.CAP), p) for p in cap_files]
    map_every_area_code(documents, area)
    print(f"database: {connection.vendor}; samples from {base}")

    for attempt in ("first time", "again (already ingested)"):
        totals = dict.fromkeys(
            ("created", "updated", "superseded", "unchanged", "skipped", "rejected"), 0
        )
        started = time.perf_counter()
        for kind, path in documents:
            run = ingest(path.read_bytes(), kind, path.name)
            for name in totals:
                totals[name] += getattr(run, name)
        elapsed = time.perf_counter() - started
        size = sum(path.stat().st_size for _kind, path in documents) / 1e6
        print(
            f"JMA + CAP samples, {attempt}: {len(documents)} documents ({size:.1f} MB) in "
            f"{elapsed:.2f} s = {len(documents) / elapsed:.1f} documents/s; {totals}"
        )

    feed = rss_feed(1000)
    for attempt in ("first time", "again (unchanged)"):
        started = time.perf_counter()
        run = ingest(feed, Kind.RSS, "bench-1000.rss")
        elapsed = time.perf_counter() - started
        print(
            f"RSS feed of 1,000 entries, {attempt}: {elapsed:.2f} s = "
            f"{1000 / elapsed:.0f} items/s (created {run.created}, unchanged {run.unchanged})"
        )

    with feed_server() as server:
        alert = (FIXTURES / "cap" / "aizu" / "aizu_heavy_snow_alert.xml").read_bytes()
        sources = [
            Source.objects.create(
                name=f"bench {i}", kind=Kind.CAP, url=server.serve(f"/bench/{i}.xml", alert)
            )
            for i in range(SOURCES)
        ]
        for source in sources:
            source_poll(source_id=source.pk)
        started = time.perf_counter()
        statuses = [source_poll(source_id=source.pk).status for source in sources]
        elapsed = time.perf_counter() - started
    not_modified = statuses.count(Run.Status.NOT_MODIFIED)
    print(
        f"poll of {SOURCES} unchanged sources: {elapsed:.2f} s "
        f"({not_modified} answered 304 Not Modified; {elapsed / SOURCES * 1000:.1f} ms each)"
    )


def ingest(data: bytes, kind: str, location: str) -> Run:
    run = Run.objects.create(kind=kind, origin=Run.Origin.COMMAND, location=location)
    ingest_document(data, kind=kind, run=run)
    return finish_run(run)


def map_every_area_code(documents: list[tuple[str, Path]], area: Area) -> None:
    """Every code the samples name, mapped to the benchmark's area."""
    codes: set[tuple[str, str]] = set()
    for kind, path in documents:
        try:
            parsed = (
                parse_jmaxml(path.read_bytes(), area_codes=None)
                if kind == Kind.JMA
                else parse_cap(path.read_bytes())
            )
        except DocumentRefused:
            continue
        codes |= {(ref.scheme, ref.code) for item in parsed.items for ref in item.areas}
    for scheme, code in codes:
        row, _created = AreaCode.objects.get_or_create(scheme=scheme, code=code[:64])
        row.areas.add(area)


def rss_feed(entries: int) -> bytes:
    items = "".join(
        f"<item><title>お知らせ {i}</title><link>https://city.example/news/{i}</link>"
        f"<guid>https://city.example/news/{i}</guid>"
        f"<pubDate>Wed, 02 Dec 2026 09:{i % 60:02d}:00 +0900</pubDate>"
        f"<description><![CDATA[<p>第{i}号の<strong>お知らせ</strong>です。"
        f'<a href="https://city.example/news/{i}">詳細</a></p>]]></description></item>'
        for i in range(entries)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>ベンチ市 新着情報</title><link>https://city.example/</link>"
        f"<description>bench</description><language>ja</language>{items}</channel></rss>"
    ).encode()


def clear() -> None:
    feed_notices = Notice.objects.exclude(source__in=["staff", "school", "snow"])
    NoticeEvent.objects.filter(notice__in=feed_notices).delete()
    FeedSeries.objects.all().delete()
    feed_notices.update(supersedes=None)
    feed_notices.delete()
    Run.objects.all().delete()
    Source.objects.all().delete()
    FetchedDocument.objects.all().delete()
    AreaCode.objects.all().delete()


if __name__ == "__main__":
    main()
