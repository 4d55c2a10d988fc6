"""Attacks on the feeds that succeed today (review of issue 9). Each test FAILS while its finding
stands: it asserts what should happen."""

from __future__ import annotations

import contextlib
import gzip
import threading
import tracemalloc
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import pytest
import time_machine

from portal.feeds.fetching import FetchFailed, fetch, new_client
from portal.feeds.models import Kind, Run, Source
from portal.feeds.services import finish_run, ingest_document
from portal.notices.models import Notice, Status
from portal.notices.rendering import render_markdown
from portal.notices.selectors import public_notices, urgent_notices
from tests.feeds.cap_documents import alert_xml, info_xml
from tests.feeds.conftest import fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("snowstorm")]

AIZU_ALERT = "cap/aizu/aizu_heavy_snow_alert.xml"
AIZU_ALERT_REF = (
    "bousai@city.aizuwakamatsu.example,JP-072028-2026-0117-001,2026-01-17T05:40:00+09:00"
)
FUKUSHIMA = "jmaxml/real_fukushima_shirasagi/2b441518-4e79-342c-a271-7c25597f3a69.xml"


def ingest(data: bytes, kind: str, *, source: Source | None = None) -> Run:
    run = Run.objects.create(kind=kind, origin=Run.Origin.COMMAND, location="test")
    ingest_document(data, kind=kind, run=run, source=source)
    return finish_run(run)


def cap_source(name: str, **fields: object) -> Source:
    return Source.objects.create(
        name=name, kind=Kind.CAP, url=f"https://{name}.example/cap.xml", **fields
    )


# ----------------------------------------------------------------------------------------------
# 1. One CAP authority ends another's alerts (shared "cap" namespace, sender not tied to source)
# ----------------------------------------------------------------------------------------------


def test_a_cap_source_serving_only_kitakata_cannot_cancel_the_citys_alert(aizu) -> None:
    city = cap_source("city")
    neighbour = cap_source("neighbour")
    neighbour.areas.set([aizu["kitakata"]])
    ingest(fixture(AIZU_ALERT), Kind.CAP, source=city)
    alert = Notice.objects.get()

    # The neighbour (hostile, or compromised) names the city's alert in references; a Cancel
    # needs no info block, so it names no area and the source's own areas are never checked.
    forged = alert_xml(
        identifier="KITAKATA-1",
        sender="bousai@city.kitakata.example",
        sent="2026-01-17T09:00:00+09:00",
        msgType="Cancel",
        references=AIZU_ALERT_REF,
        infos=[],
    )
    ingest(forged, Kind.CAP, source=neighbour)

    alert.refresh_from_db()
    assert alert.status == Status.PUBLISHED


def test_a_cap_update_from_another_source_cannot_replace_the_citys_alert(aizu) -> None:
    city = cap_source("city")
    neighbour = cap_source("neighbour")
    neighbour.areas.set([aizu["kitakata"]])
    ingest(fixture(AIZU_ALERT), Kind.CAP, source=city)
    alert = Notice.objects.get()

    forged = alert_xml(
        identifier="KITAKATA-2",
        sender="bousai@city.kitakata.example",
        sent="2026-01-17T09:00:00+09:00",
        msgType="Update",
        references=AIZU_ALERT_REF,
        infos=[
            info_xml(
                headline="大雪警報は解除されました",
                severity="Minor",
                urgency="Past",
                description="もう安全です。避難所から帰宅してください。",
            )
        ],
    )
    ingest(forged, Kind.CAP, source=neighbour)

    alert.refresh_from_db()
    assert alert.status == Status.PUBLISHED


# ----------------------------------------------------------------------------------------------
# 2. A version from the far future locks its series: every later real version is "older"
# ----------------------------------------------------------------------------------------------


def test_a_jma_report_dated_2099_does_not_block_every_later_warning_of_the_office(aizu) -> None:
    # A spoofed (or mis-clocked) "nothing in force" report of 福島地方気象台, dated 2099.
    future = fixture(FUKUSHIMA).replace(b"2016-03-10T09:22:41Z", b"2099-12-31T00:00:00Z")
    # Then the real warning for 会津若松市.
    warning = fixture(FUKUSHIMA).replace(
        "<Status>発表警報・注意報はなし</Status>\n        </Kind>\n        <Area>\n"
        "          <Name>会津若松市</Name>".encode(),
        "<Name>大雪警報</Name>\n          <Code>06</Code>\n          <Status>発表</Status>\n"
        "        </Kind>\n        <Area>\n          <Name>会津若松市</Name>".encode(),
    )
    warning = warning.replace(b"2016-03-10T09:22:41Z", b"2016-03-10T10:00:00Z")

    with time_machine.travel(datetime(2016, 3, 10, 9, 30, tzinfo=UTC), tick=True):
        ingest(future, Kind.JMA)
    with time_machine.travel(datetime(2016, 3, 10, 10, 1, tzinfo=UTC), tick=True):
        run = ingest(warning, Kind.JMA)

    assert run.created == 1, run.notes
    assert Notice.objects.filter(status=Status.PUBLISHED, urgency="warning").exists()


def test_a_cap_update_dated_2099_does_not_lock_out_the_authoritys_real_cancel(aizu) -> None:
    ingest(fixture(AIZU_ALERT), Kind.CAP)
    far_update = alert_xml(
        identifier="JP-072028-2026-0117-009",
        sender="bousai@city.aizuwakamatsu.example",
        sent="2099-01-01T00:00:00+09:00",
        msgType="Update",
        references=AIZU_ALERT_REF,
        infos=[info_xml(headline="会津若松市に大雪警報（続報）")],
    )
    ingest(far_update, Kind.CAP)

    # The authority's real Cancel of both is now "stale" and changes nothing.
    ingest(fixture("cap/aizu/aizu_heavy_snow_cancel.xml"), Kind.CAP)

    assert not Notice.objects.filter(status=Status.PUBLISHED).exists()


# ----------------------------------------------------------------------------------------------
# 3. A CAP Test/Exercise message ends a real (Actual) alert
# ----------------------------------------------------------------------------------------------


def test_a_cap_test_cancel_does_not_withdraw_a_real_alert(aizu) -> None:
    ingest(fixture(AIZU_ALERT), Kind.CAP)
    test_cancel = alert_xml(
        identifier="JP-072028-TEST-CANCEL",
        sender="bousai@city.aizuwakamatsu.example",
        sent="2026-01-17T09:00:00+09:00",
        status="Test",
        msgType="Cancel",
        references=AIZU_ALERT_REF,
        infos=[],
    )
    ingest(test_cancel, Kind.CAP)

    assert Notice.objects.get().status == Status.PUBLISHED


def test_a_cap_exercise_update_does_not_hide_a_real_alert_from_residents(aizu) -> None:
    ingest(fixture(AIZU_ALERT), Kind.CAP)
    drill_update = alert_xml(
        identifier="JP-072028-DRILL-UPDATE",
        sender="bousai@city.aizuwakamatsu.example",
        sent="2026-01-17T09:00:00+09:00",
        status="Exercise",
        msgType="Update",
        references=AIZU_ALERT_REF,
    )
    ingest(drill_update, Kind.CAP)

    # The real warning is superseded by an exercise, which residents never see: nothing is left.
    assert urgent_notices(area_ids=[aizu["city"].pk])


# ----------------------------------------------------------------------------------------------
# 4. An alert naming no area escapes the source's own areas and reaches everyone
# ----------------------------------------------------------------------------------------------


def test_an_area_limited_cap_source_cannot_warn_the_whole_city_with_an_alert_naming_no_area(
    aizu,
) -> None:
    neighbour = cap_source("neighbour")
    neighbour.areas.set([aizu["kitakata"]])
    no_area = alert_xml(
        identifier="KITAKATA-3",
        sender="bousai@city.kitakata.example",
        infos=[info_xml(headline="全域に避難指示", severity="Extreme", urgency="Immediate")],
    )
    ingest(no_area, Kind.CAP, source=neighbour)

    # Stored with no areas, i.e. for everyone: on every resident's home page, on /notices/.
    assert not public_notices().exists()
    assert not urgent_notices(area_ids=[aizu["city"].pk])


# ----------------------------------------------------------------------------------------------
# 5. An RSS entry's link breaks out of the "[link](link)" the store appends
# ----------------------------------------------------------------------------------------------


def test_an_rss_link_cannot_show_one_address_and_lead_to_another(aizu) -> None:
    link = "https://www.city.aizuwakamatsu.lg.jp/](https://evil.example/)x"
    feed = f"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>市からのお知らせ</title><item><title>給付金のお知らせ</title>
<link>{escape(link)}</link><description>詳しくはリンク先へ</description>
<pubDate>Sat, 17 Jan 2026 00:00:00 GMT</pubDate></item></channel></rss>""".encode()
    source = Source.objects.create(
        name="city news", kind=Kind.RSS, url="https://www.city.aizuwakamatsu.lg.jp/news.rss"
    )

    ingest(feed, Kind.RSS, source=source)

    html = str(render_markdown(Notice.objects.get().body_ja))
    # Shown as the city's address, leading to evil.example.
    assert 'href="https://evil.example/' not in html, html


# ----------------------------------------------------------------------------------------------
# 6. Stacked Content-Encoding: the size limit is checked only after a whole chunk is inflated
# ----------------------------------------------------------------------------------------------


@pytest.fixture
def bomb_server():
    inflated = 200 * 1024 * 1024  # 200 MiB of zeros, sent as about 1 KiB
    body = gzip.compress(gzip.compress(b"\0" * inflated, 9), 9)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Encoding", "gzip, gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()


def test_a_double_gzip_bomb_is_stopped_near_the_size_limit(bomb_server, settings) -> None:
    settings.FEEDS_MAX_DOCUMENT_BYTES = 1024 * 1024
    client = new_client()
    tracemalloc.start()
    try:
        with pytest.raises(FetchFailed):
            fetch(bomb_server, client=client)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        client.close()
    # A 1 MiB limit should not cost 200 MiB (or, with a larger bomb, the worker).
    assert peak < 32 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB for a 1 MiB limit"


# ----------------------------------------------------------------------------------------------
# 7. A document in Shift_JIS / EUC-JP (or UTF-7) crashed every parser with ValueError; it is
#    now read (many Japanese city sites still send Shift_JIS)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["Shift_JIS", "EUC-JP", "UTF-7"])
def test_a_document_in_a_multibyte_legacy_encoding_is_read_not_a_crash(encoding) -> None:
    from portal.feeds.parsing.cap import parse_cap

    document = alert_xml().decode().replace('encoding="UTF-8"', f'encoding="{encoding}"')

    assert parse_cap(document.encode(encoding)) == parse_cap(alert_xml())


def test_a_document_whose_bytes_are_not_its_declared_encoding_is_refused() -> None:
    from portal.feeds.parsing.cap import parse_cap
    from portal.feeds.parsing.documents import DocumentRefused

    document = alert_xml().decode().replace('encoding="UTF-8"', 'encoding="Shift_JIS"')

    with pytest.raises(DocumentRefused, match="not valid Shift_JIS"):
        parse_cap(document.encode("utf-8") + "会津".encode("utf-16-le") + b"\x81\x00")


def test_one_shift_jis_document_in_a_jma_feed_does_not_block_the_documents_after_it(
    aizu, server
) -> None:
    from portal.feeds.services import source_poll

    poison = fixture(FUKUSHIMA).decode().replace('encoding="UTF-8"', 'encoding="Shift_JIS"')
    poison_url = server.serve("/data/poison.xml", poison.encode("shift_jis"))
    good_url = server.serve("/data/good.xml", fixture(FUKUSHIMA))
    feed = (
        fixture("jmaxml/real_fukushima_shirasagi/jma_atom_feed_extra_fukushima_2016-03-10.xml")
        .replace(
            b"http://xml.kishou.go.jp/data/afeedc52-107a-3d1d-9196-b108234d6e0f.xml",
            poison_url.encode(),
        )
        .replace(
            b"http://xml.kishou.go.jp/data/2b441518-4e79-342c-a271-7c25597f3a69.xml",
            good_url.encode(),
        )
    )
    source = Source.objects.create(
        name="extra", kind=Kind.JMA, url=server.serve("/extra.xml", feed)
    )

    # Today: ValueError escapes source_poll, the run stays "running", the source is not backed
    # off, FetchedDocument is never written for the poison link, so every poll dies on it again
    # and the warnings listed after it are never read.
    source_poll(source_id=source.pk)

    assert server.hits("/data/good.xml") == 1
    assert not Run.objects.filter(status=Run.Status.RUNNING).exists()


# ----------------------------------------------------------------------------------------------
# 8. A control character decoded from an RSS title breaks /notices/feed.atom for everyone
# ----------------------------------------------------------------------------------------------


def test_a_control_character_in_a_feed_title_does_not_break_the_public_atom_feed(
    aizu, client
) -> None:
    # feedparser decodes "&#1;" in an (HTML) title; XML 1.0 cannot carry U+0001.
    feed = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>t</title><item><title>a&amp;#1;b</title><guid>x1</guid>
<pubDate>Sat, 17 Jan 2026 00:00:00 GMT</pubDate></item></channel></rss>"""
    source = Source.objects.create(
        name="city news", kind=Kind.RSS, url="https://www.city.aizuwakamatsu.lg.jp/news.rss"
    )
    ingest(feed, Kind.RSS, source=source)
    assert public_notices().exists()

    client.raise_request_exception = False
    response = client.get("/notices/feed.atom")

    assert response.status_code == 200


# ----------------------------------------------------------------------------------------------
# 9. An alert and its update ingested at once (two workers): IntegrityError escapes
# ----------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_alert_and_its_update_ingested_at_once_do_not_crash_the_worker(
    aizu, monkeypatch
) -> None:
    from django.db import connection, connections

    from portal.notices import services as notice_services

    if connection.vendor != "postgresql":
        pytest.skip("row locks: run with DATABASE_URL=postgres://…")
    barrier = threading.Barrier(2, timeout=10)
    original = notice_services._remember_versions

    def remember_together(series, version_ids):  # both have looked up the known versions
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return original(series, version_ids)

    monkeypatch.setattr(notice_services, "_remember_versions", remember_together)
    documents = [fixture(AIZU_ALERT), fixture("cap/aizu/aizu_heavy_snow_update.xml")]
    errors: list[str] = []

    def work(data: bytes) -> None:
        try:
            ingest(data, Kind.CAP)
        except Exception as error:  # noqa: BLE001 - what escapes to the worker
            errors.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(data,)) for data in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Notice.objects.filter(status=Status.PUBLISHED).count() == 1


# ----------------------------------------------------------------------------------------------
# 10. A CAP description has no size limit: megabytes of Markdown rendered on every page view
# ----------------------------------------------------------------------------------------------


def test_a_cap_description_of_megabytes_is_not_stored_whole(aizu) -> None:
    from tests.feeds.cap_documents import area_xml

    # "*_" is not escaped by markdown_safe_text: markdown-it spends seconds per megabyte on it,
    # on /notices/<id>/ and on /notices/feed.atom for every request.
    huge = "*_" * 150_000
    alert = alert_xml(
        infos=[info_xml(description=huge, areas=[area_xml(geocodes=[("JIS", "07202")])])]
    )
    ingest(alert, Kind.CAP)

    stored = Notice.objects.values_list("body_ja", flat=True)
    # RSS entries stop at 100,000 characters, JMA bodies at 4,000; CAP has no limit.
    assert all(len(body) <= 100_000 for body in stored), [len(body) for body in stored]
