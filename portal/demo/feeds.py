"""Demo feeds: the area-code table, two real warnings of the Fukushima Local Meteorological
Office (2016-03-10, naming 会津若松市) ingested through the JMA connector, a heavy-snow warning
for Aizuwakamatsu in CAP written for the demo (in force on the day it is loaded), and the
sources a city would poll, disabled (the demo machine has no internet). Idempotent: the same
documents ingested again change nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils import timezone

from portal.feeds.area_codes import area_codes_load
from portal.feeds.models import Kind, Run, Source
from portal.feeds.services import finish_run, ingest_document

DATA_DIR = Path(__file__).resolve().parent / "data" / "feeds"
JAPAN = ZoneInfo("Asia/Tokyo")

DEMO_SOURCES = [
    (
        "気象庁 防災情報XML（随時・高頻度）",
        Kind.JMA,
        "https://www.data.jma.go.jp/developer/xml/feed/extra.xml",
        timedelta(minutes=1),
    ),
    (
        "気象庁 防災情報XML（地震火山・高頻度）",
        Kind.JMA,
        "https://www.data.jma.go.jp/developer/xml/feed/eqvol.xml",
        timedelta(minutes=1),
    ),
    (
        "会津若松市 新着情報（RSS）",
        Kind.RSS,
        "https://www.city.aizuwakamatsu.fukushima.jp/index.rss",
        timedelta(minutes=15),
    ),
]


def ensure_demo_feeds(*, now: datetime | None = None) -> int:
    """Returns how many notices the demo documents created."""
    now = now or timezone.now()
    area_codes_load()
    for name, kind, url, interval in DEMO_SOURCES:
        Source.objects.get_or_create(
            url=url, defaults={"name": name, "kind": kind, "interval": interval, "enabled": False}
        )
    created = 0
    for path in sorted((DATA_DIR / "jmaxml").glob("*.xml")):
        created += _ingest(path.read_bytes(), kind=Kind.JMA, location=f"demo: {path.name}")
    day = now.astimezone(JAPAN).date().isoformat()
    created += _ingest(
        todays_snow_warning(now), kind=Kind.CAP, location=f"demo: 大雪警報 (CAP) {day}"
    )
    return created


def todays_snow_warning(now: datetime) -> bytes:
    """Issued at the latest 05:40 (Japan time) at or before ``now`` — that morning, or the one
    before when the demo is loaded between midnight and 05:40 (a warning sent in the future is
    refused) — and in force for two days."""
    day = now.astimezone(JAPAN).date()
    sent = datetime.combine(day, time(5, 40), tzinfo=JAPAN)
    if sent > now:
        sent -= timedelta(days=1)
    template = (DATA_DIR / "aizu_heavy_snow_cap.xml").read_text(encoding="utf-8")
    return (
        template.replace("{sent}", sent.isoformat())
        .replace("{expires}", (sent + timedelta(days=2)).isoformat())
        .encode()
    )


def _ingest(data: bytes, *, kind: str, location: str) -> int:
    if Run.objects.filter(location=location, origin=Run.Origin.COMMAND).exists():
        return 0  # loaded before: running load_demo again changes nothing
    run = Run.objects.create(kind=kind, origin=Run.Origin.COMMAND, location=location, fetched=1)
    ingest_document(data, kind=kind, run=run)
    finish_run(run)
    return run.created
