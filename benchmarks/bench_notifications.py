"""How fast a warning reaches a city: its outbox rows, then its emails.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/machiplus_bench \
    REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python benchmarks/bench_notifications.py [RESIDENTS] [EMAILS] [--reuse]

Setup (not timed) writes RESIDENTS (default 120,000) residents in bulk, as
tests/notifications/crowd.py does: each with a verified address, a home in one district,
consent for "disaster warnings for my areas" to use their places, and warnings asked for by
email. Earlier benchmark residents are deleted first (``--reuse`` keeps them when there are as
many as asked): point it at a scratch database.

Measured:

1. **Fan-out**: a warning for the district ingested as a feed would bring it, then what the
   worker does with it: ``fan_out_start`` (the ranges, one task each) and every range's
   ``deliveries_fan_out`` (preferences, the consent gate's read with its data-use log, the
   decision, the rows by COPY and their sending tasks in the task outbox), in one process and
   in two (the ranges shared, as two worker processes share the range tasks). Seconds until
   every row exists.
2. **Email**: EMAILS (default 5,000) of those rows sent by two real ``celery worker``
   processes (``--concurrency=1`` each, the notify queue) to a local SMTP server (aiosmtpd):
   messages per second from the first task enqueued to the last row sent, and the sink's count
   of distinct Message-IDs.

Prints JSON.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-notify.sqlite3'}")
# The benchmark's tasks stay out of any other site's queues on the same Redis.
os.environ.setdefault("CELERY_BROKER_KEY_PREFIX", "bench-notify:")

import django  # noqa: E402

django.setup()

from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from benchmarks.bench_policy_bulk_read import EMAIL_PREFIX, clear  # noqa: E402
from portal.celery import app  # noqa: E402
from portal.models import Area, OutboxTask, User  # noqa: E402
from portal.notices.models import FeedSeries, Notice  # noqa: E402
from portal.notices.services import IngestedVersion, notice_ingest  # noqa: E402
from portal.notifications.fanout import (  # noqa: E402
    announcement_for,
    deliveries_fan_out,
    fan_out_ranges,
)
from portal.notifications.models import Delivery, DeliveryStatus  # noqa: E402
from portal.notifications.tasks import send_deliveries  # noqa: E402
from tests.mail_sink import free_port  # noqa: E402
from tests.notifications.crowd import residents_wanting_warnings  # noqa: E402

SERIES = "bench:大雪警報"


def main() -> None:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    residents = int(args[0]) if args else 120_000
    emails = int(args[1]) if len(args) > 1 else 5_000
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    district = _district()
    count = User.objects.filter(email__startswith=EMAIL_PREFIX).count()
    if "--reuse" not in sys.argv or count != residents:
        clear()
        residents_wanting_warnings(residents, district, prefix=EMAIL_PREFIX)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
    report: dict[str, Any] = {
        "database": connection.vendor,
        "residents": residents,
        "setup_seconds": round(time.perf_counter() - started, 1),
        "fan_out": [fan_out(district, processes) for processes in (1, 2)],
    }
    report["email"] = email_throughput(emails)
    print(json.dumps(report, indent=2))


def _district() -> Area:
    city, _ = Area.objects.get_or_create(
        code="bench", defaults={"kind": "municipality", "name_ja": "ベンチ市"}
    )
    district, _ = Area.objects.get_or_create(
        code="bench-d", defaults={"kind": "district", "name_ja": "ベンチ地区", "parent": city}
    )
    return district


# ------------------------------------------------------------------------------------------------
# Fan-out
# ------------------------------------------------------------------------------------------------


def fan_out(district: Area, processes: int) -> dict[str, Any]:
    _forget_earlier_warnings()
    result = notice_ingest(version=_warning(district, processes))
    assert result.notice_id is not None
    notice = Notice.objects.get(pk=result.notice_id)
    connections.close_all()
    started = time.perf_counter()
    announcement = announcement_for(notice, "published")
    assert announcement is not None
    ranges = fan_out_ranges(announcement)
    parts = [ranges[i::processes] for i in range(processes)]
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        per_process = pool.starmap(_decide, [(notice.pk, part) for part in parts])
    seconds = time.perf_counter() - started
    rows = Delivery.objects.filter(notice=notice).count()
    return {
        "processes": processes,
        "ranges": len(ranges),
        "seconds": round(seconds, 2),
        "rows": rows,
        "rows_per_second": round(rows / seconds),
        "residents_read": sum(read for read, _queued in per_process),
        "sending_tasks_in_outbox": OutboxTask.objects.filter(
            task_name=send_deliveries.name
        ).count(),
    }


def _decide(notice_id: int, ranges: list[tuple[int, int]]) -> tuple[int, int]:
    notice = Notice.objects.get(pk=notice_id)
    announcement = announcement_for(notice, "published")
    assert announcement is not None
    read = queued = 0
    for id_range in ranges:
        result = deliveries_fan_out(announcement=announcement, id_range=id_range)
        read += result.considered
        queued += result.queued
    return read, queued


def _warning(district: Area, n: int) -> IngestedVersion:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    return IngestedVersion(
        source="jma",
        series=f"{SERIES}:{now.timestamp()}:{n}",
        version_id=f"{SERIES}:{now.timestamp()}:{n}@1",
        version_at=now,
        action="issue",
        category="disaster",
        urgency="warning",
        title_ja="ベンチ地区に大雪警報",
        body_ja="大雪に警戒してください。",
        area_ids=[district.pk],
        expires_at=now + timedelta(hours=6),
    )


def _forget_earlier_warnings() -> None:
    Delivery.objects.all().delete()
    OutboxTask.objects.all().delete()
    Notice.objects.filter(source="jma", series__startswith=SERIES).update(status="expired")
    FeedSeries.objects.filter(key__startswith=SERIES).delete()


# ------------------------------------------------------------------------------------------------
# Email
# ------------------------------------------------------------------------------------------------


def email_throughput(emails: int) -> dict[str, Any]:
    """Send the first ``emails`` rows of the last fan-out with two real worker processes."""
    OutboxTask.objects.all().delete()
    _purge_notify_queue()
    chosen = list(
        Delivery.objects.filter(status=DeliveryStatus.CREATED)
        .order_by("id")
        .values_list("id", flat=True)[:emails]
    )
    Delivery.objects.exclude(pk__in=chosen).update(status=DeliveryStatus.SUPPRESSED)
    # The sink keeps the bytes and says nothing: parsing and logging each message here would
    # take the two cores from the workers being measured.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = Controller(_RawSink(), hostname="127.0.0.1", port=free_port())
    sink.start()
    workers = [_start_worker(n, sink.port) for n in range(2)]
    try:
        started = time.perf_counter()
        batch = settings.NOTIFY_SEND_BATCH
        for i in range(0, len(chosen), batch):
            send_deliveries.apply_async(kwargs={"delivery_ids": chosen[i : i + batch]})
        deadline = time.monotonic() + 1200
        while Delivery.objects.filter(pk__in=chosen, status=DeliveryStatus.SENT).count() < len(
            chosen
        ):
            if time.monotonic() > deadline:
                raise SystemExit("the emails were not all sent within 20 minutes")
            time.sleep(0.2)
        seconds = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
        sink.stop()
    messages = sink.handler.raw
    ids = [_MESSAGE_ID.search(raw) for raw in messages]
    return {
        "worker_processes": 2,
        "emails": len(chosen),
        "seconds": round(seconds, 2),
        "emails_per_second": round(len(chosen) / seconds, 1),
        "received": len(messages),
        "distinct_message_ids": len({found.group(1) for found in ids if found}),
    }


class _RawSink:
    def __init__(self) -> None:
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        self.raw.append(envelope.original_content)
        return "250 OK"


_MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>]+>)", re.MULTILINE | re.IGNORECASE)


def _start_worker(n: int, smtp_port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": settings.REDIS_URL,
    }
    log_path = ROOT / "var" / f"bench-notify-worker-{n}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "portal", "worker",
                "--pool=prefork", "--concurrency=1", "--loglevel=INFO", "--queues=notify",
                "--without-gossip", "--without-mingle", f"--hostname=bench-notify-{n}@%h",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text(errors="replace"):
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit(f"worker {n} did not start: see {log_path}")
        time.sleep(0.2)
    return process


def _purge_notify_queue() -> None:
    with app.connection_for_write() as conn:
        for queue in app.conf.task_queues:
            queue.bind(conn.default_channel).purge()


if __name__ == "__main__":
    main()
