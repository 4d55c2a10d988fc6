"""Documents become notices through the notices services: once, the latest version winning,
cancellations withdrawing, exercises hidden, and what concerns no area of ours refused with
nothing stored."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from portal.feeds.models import Kind, Run, Source
from portal.feeds.services import finish_run, ingest_document, ingest_location
from portal.notices.models import FeedSeries, Notice, Status
from portal.notices.rendering import markdown_problems
from portal.notices.selectors import published_notices
from tests.feeds.conftest import fixture, map_code

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("snowstorm")]

AIZU_ALERT = "cap/aizu/aizu_heavy_snow_alert.xml"
AIZU_UPDATE = "cap/aizu/aizu_heavy_snow_update.xml"
AIZU_CANCEL = "cap/aizu/aizu_heavy_snow_cancel.xml"
AIZU_DRILL = "cap/aizu/aizu_drill_exercise.xml"


def ingest(data: bytes, kind: str, *, source: Source | None = None) -> Run:
    run = Run.objects.create(kind=kind, origin=Run.Origin.COMMAND, location="test")
    ingest_document(data, kind=kind, run=run, source=source)
    return finish_run(run)


def reasons(run: Run) -> str:
    return " | ".join(problem["reason"] for problem in run.problems)


# ----------------------------------------------------------------------------------------------
# CAP
# ----------------------------------------------------------------------------------------------


def test_a_cap_alert_and_its_cancel_make_one_notice_that_ends_withdrawn(aizu) -> None:
    alert = ingest(fixture(AIZU_ALERT), Kind.CAP)
    notice = Notice.objects.get()
    assert alert.created == 1
    assert notice.status == Status.PUBLISHED
    assert notice.source == "cap"

    cancel = ingest(fixture(AIZU_CANCEL), Kind.CAP)

    assert Notice.objects.count() == 1
    notice.refresh_from_db()
    assert notice.status == Status.WITHDRAWN
    assert cancel.superseded == 1


def test_a_cap_update_supersedes_the_alert_and_its_cancel_withdraws_the_update(aizu) -> None:
    ingest(fixture(AIZU_ALERT), Kind.CAP)
    update = ingest(fixture(AIZU_UPDATE), Kind.CAP)
    ingest(fixture(AIZU_CANCEL), Kind.CAP)

    first, second = Notice.objects.order_by("id")
    assert update.updated == 1
    assert first.status == Status.SUPERSEDED
    assert second.supersedes_id == first.pk
    assert second.urgency == "emergency"
    assert second.status == Status.WITHDRAWN
    assert FeedSeries.objects.count() == 1


def test_the_same_cap_alert_twice_makes_one_notice(aizu) -> None:
    ingest(fixture(AIZU_ALERT), Kind.CAP)
    again = ingest(fixture(AIZU_ALERT), Kind.CAP)

    assert Notice.objects.count() == 1
    assert again.status == Run.Status.OK
    assert (again.created, again.unchanged) == (0, 1)


def test_an_update_that_arrives_before_its_alert_leaves_the_alert_unshown(aizu) -> None:
    ingest(fixture(AIZU_UPDATE), Kind.CAP)
    late = ingest(fixture(AIZU_ALERT), Kind.CAP)

    assert late.unchanged == 1
    assert list(published_notices().values_list("urgency", flat=True)) == ["emergency"]


def test_a_cap_alert_is_mapped_to_the_areas_its_geocode_names(aizu) -> None:
    ingest(fixture(AIZU_ALERT), Kind.CAP)

    assert aizu["city"] in Notice.objects.get().areas.all()


def test_a_cap_alert_in_japanese_and_english_becomes_one_bilingual_notice(aizu) -> None:
    ingest(fixture(AIZU_ALERT), Kind.CAP)

    notice = Notice.objects.get()
    assert "大雪" in notice.title_ja
    assert notice.title_en
    assert not markdown_problems(notice.body_ja)


def test_a_cap_exercise_is_stored_and_never_shown_to_residents(aizu) -> None:
    with time_machine.travel(datetime(2026, 9, 1, 1, 30, tzinfo=UTC), tick=True):  # the drill
        run = ingest(fixture(AIZU_DRILL), Kind.CAP)

    notice = Notice.objects.get()
    assert run.created == 1
    assert notice.is_exercise
    assert not published_notices().exists()


def test_a_cap_polygon_reaches_the_areas_whose_point_it_contains(aizu) -> None:
    # A polygon around 北会津's point only (no geocode): 鶴城, 3 km north, stays outside.
    polygon = (
        "<area><areaDesc>北会津</areaDesc>"
        "<polygon>37.45,139.91 37.45,139.94 37.47,139.94 37.47,139.91 37.45,139.91</polygon>"
        "</area>"
    )
    polygon_only = re.sub(
        r"<area>.*?</area>", polygon, fixture(AIZU_ALERT).decode(), flags=re.DOTALL
    ).encode()

    run = ingest(polygon_only, Kind.CAP)

    assert run.created == 1, reasons(run)
    assert list(Notice.objects.get().areas.all()) == [aizu["kitaaizu"]]


def test_the_xxe_sample_is_refused_with_nothing_stored(aizu) -> None:
    run = ingest(fixture("cap/google_cap-library/negative_tests/testdata_xee.cap"), Kind.CAP)

    assert run.status == Run.Status.REFUSED
    assert "DTD" in reasons(run)
    assert not Notice.objects.exists()
    assert not FeedSeries.objects.exists()


def test_an_alert_for_somewhere_else_is_skipped_as_concerning_none_of_our_areas(aizu) -> None:
    run = ingest(fixture("cap/google_cap-library/testdata_canada.cap"), Kind.CAP)

    assert (run.status, run.skipped, run.rejected) == (Run.Status.SKIPPED, 1, 0)
    assert "concerns none of the configured areas" in reasons(run)
    assert not Notice.objects.exists()


def test_a_source_skips_what_concerns_only_areas_it_does_not_serve(aizu) -> None:
    source = Source.objects.create(name="喜多方", kind=Kind.CAP, url="http://127.0.0.1:1/k.xml")
    source.areas.add(aizu["kitakata"])

    run = ingest(fixture(AIZU_ALERT), Kind.CAP, source=source)

    assert run.status == Run.Status.SKIPPED
    assert not Notice.objects.exists()


def test_an_alert_whose_expiry_has_passed_is_kept_but_not_shown(aizu) -> None:
    map_code("cap:SAME", "006037", aizu["city"])  # Los Angeles County, mapped for the test

    run = ingest(fixture("cap/willglynn_oasiscap/v1dot2_appendix_adot4.xml"), Kind.CAP)

    assert run.created == 1, reasons(run)
    assert not published_notices().exists()


# ----------------------------------------------------------------------------------------------
# JMA 防災情報XML
# ----------------------------------------------------------------------------------------------

# 気象特別警報・警報・注意報 (VPWW53), the format FEEDS_JMA_WARNING_FORMATS takes by default.
FUKUSHIMA = "jmaxml/real_fukushima_shirasagi/2b441518-4e79-342c-a271-7c25597f3a69.xml"
# The same warnings in the older 気象警報・注意報 format, sent at the same moment.
FUKUSHIMA_OLD_FORMAT = "jmaxml/real_fukushima_shirasagi/afeedc52-107a-3d1d-9196-b108234d6e0f.xml"


def test_the_real_fukushima_report_lifts_what_was_in_force_in_aizuwakamatsu(aizu) -> None:
    # 2016-03-10 18:22: 会津若松市 has 発表警報・注意報はなし; nothing of ours was in force.
    run = ingest(fixture(FUKUSHIMA), Kind.JMA)

    assert run.status == Run.Status.OK, reasons(run)
    assert run.unchanged == 1
    assert not Notice.objects.exists()


def test_a_jma_warning_in_force_ends_when_the_next_report_lifts_it(aizu) -> None:
    issued = fixture(FUKUSHIMA).replace(
        "<Status>発表警報・注意報はなし</Status>\n        </Kind>\n        <Area>\n"
        "          <Name>会津若松市</Name>".encode(),
        "<Name>大雪警報</Name>\n          <Code>06</Code>\n          <Status>発表</Status>\n"
        "        </Kind>\n        <Area>\n          <Name>会津若松市</Name>".encode(),
    )
    issued = issued.replace(b"2016-03-10T09:22:41Z", b"2016-03-10T08:00:00Z")
    assert issued != fixture(FUKUSHIMA)

    with time_machine.travel(datetime(2016, 3, 10, 9, 30, tzinfo=UTC), tick=True):
        created = ingest(issued, Kind.JMA)
        lifted = ingest(fixture(FUKUSHIMA), Kind.JMA)

    assert created.created == 1, reasons(created)
    assert lifted.superseded == 1, reasons(lifted)
    notice = Notice.objects.get()
    assert notice.urgency == "warning"
    assert notice.status == Status.EXPIRED


def test_the_same_warnings_in_a_second_format_are_skipped_so_they_make_one_notice(aizu) -> None:
    run = ingest(fixture(FUKUSHIMA_OLD_FORMAT), Kind.JMA)

    assert run.status == Run.Status.SKIPPED
    assert "FEEDS_JMA_WARNING_FORMATS" in reasons(run)


def test_a_jma_document_for_another_prefecture_is_skipped_with_the_areas_it_names(aizu) -> None:
    run = ingest(fixture("jmaxml/jma_official_samples/15_08_01_130412_VPWW53.xml"), Kind.JMA)

    assert run.status == Run.Status.SKIPPED
    assert "concerns none of the configured areas" in reasons(run)
    assert "奈良" in reasons(run)


def test_an_unsupported_jma_type_is_skipped_with_its_title(aizu) -> None:
    run = ingest(fixture("jmaxml/jma_official_samples/06_01_01_100514_VPTI50.xml"), Kind.JMA)

    assert run.status == Run.Status.SKIPPED
    assert "unsupported JMA information type: 全般台風情報" in reasons(run)


def test_a_malformed_jma_document_is_refused_with_nothing_stored(aizu) -> None:
    run = ingest(fixture(FUKUSHIMA)[:-200], Kind.JMA)

    assert (run.status, run.rejected) == (Run.Status.REFUSED, 1)
    assert "not well-formed XML" in reasons(run)
    assert not FeedSeries.objects.exists()


def test_a_jma_warning_without_an_end_of_its_own_ends_after_the_configured_lifetime(
    aizu, settings
) -> None:
    settings.FEEDS_WARNING_LIFETIME_HOURS = 6
    now = timezone.now().replace(microsecond=0)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    issued = (
        fixture(FUKUSHIMA)
        .replace(
            "<Status>発表警報・注意報はなし</Status>\n        </Kind>\n        <Area>\n"
            "          <Name>会津若松市</Name>".encode(),
            "<Name>大雪警報</Name>\n          <Code>06</Code>\n          <Status>発表</Status>\n"
            "        </Kind>\n        <Area>\n          <Name>会津若松市</Name>".encode(),
        )
        .replace(b"2016-03-10T09:22:41Z", stamp)
    )

    ingest(issued, Kind.JMA)

    notice = published_notices().get()
    assert notice.expires_at == now + timedelta(hours=6)


# ----------------------------------------------------------------------------------------------
# RSS / Atom
# ----------------------------------------------------------------------------------------------

KANPO = "rss_atom/kanpo_unofficial_feed_2025-07-24.xml"


def test_every_entry_of_a_news_feed_becomes_city_wide_news(aizu) -> None:
    run = ingest(fixture(KANPO), Kind.RSS)

    notices = Notice.objects.all()
    assert run.created == notices.count() > 0
    assert {(n.category, n.source, n.status) for n in notices} == {
        ("city_news", "rss", Status.PUBLISHED)
    }
    assert not any(n.areas.exists() for n in notices)


def test_a_news_feed_read_twice_duplicates_nothing(aizu) -> None:
    first = ingest(fixture(KANPO), Kind.RSS)
    again = ingest(fixture(KANPO), Kind.RSS)

    assert again.created == 0
    assert again.unchanged == first.created
    assert Notice.objects.count() == first.created


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>会津若松市 新着情報</title><link>https://city.example/</link>
<description>news</description><language>ja</language>{items}</channel></rss>"""
ITEM = """<item><title>{title}</title><link>https://city.example/news/{n}</link>
<guid>https://city.example/news/{n}</guid><pubDate>{date}</pubDate>
<description><![CDATA[{body}]]></description></item>"""


def news_feed(*items: tuple[int, str, str, str]) -> bytes:
    body = "".join(
        ITEM.format(n=n, title=title, date=date, body=text) for n, title, date, text in items
    )
    return RSS.format(items=body).encode()


def test_a_changed_entry_updates_its_notice_and_a_removed_one_is_left_alone(aizu) -> None:
    date = "Fri, 16 Jan 2026 09:00:00 +0900"
    later = "Fri, 16 Jan 2026 12:00:00 +0900"
    ingest(
        news_feed((1, "ごみ収集日の変更", date, "<p>年末年始</p>"), (2, "成人式", date, "x")),
        Kind.RSS,
    )

    run = ingest(
        news_feed((1, "ごみ収集日の変更（訂正）", later, "<p>年末年始の訂正</p>")), Kind.RSS
    )

    assert (run.updated, run.created) == (1, 0)
    live = published_notices().order_by("id")
    assert [n.title_ja for n in live] == ["成人式", "ごみ収集日の変更（訂正）"]


def test_html_in_a_news_entry_is_sanitised_like_staff_markdown(aizu) -> None:
    hostile = (
        '<p onclick="steal()">お知らせ<script>alert(1)</script></p>'
        '<a href="javascript:alert(1)">link</a><img src=x onerror=alert(1)>'
        '<iframe src="https://evil.example"></iframe><a href="https://city.example/a">詳細</a>'
    )
    ingest(news_feed((1, "お知らせ", "Fri, 16 Jan 2026 09:00:00 +0900", hostile)), Kind.RSS)

    body = Notice.objects.get().body_ja
    assert not markdown_problems(body)
    for dangerous in ("script", "javascript:", "onerror", "onclick", "iframe"):
        assert dangerous not in body
    assert "https://city.example/a" in body


def test_an_html_page_instead_of_a_feed_is_refused(aizu) -> None:
    page = b"<!doctype html><html><head><title>Error</title></head><body>503</body></html>"

    run = ingest(page, Kind.RSS)

    assert run.status == Run.Status.REFUSED
    assert not Notice.objects.exists()


def test_one_bad_entry_is_refused_and_the_rest_of_the_feed_is_kept(aizu) -> None:
    feed = news_feed(
        (1, "", "Fri, 16 Jan 2026 09:00:00 +0900", "no title"),
        (2, "成人式", "Fri, 16 Jan 2026 09:00:00 +0900", "x"),
    )

    run = ingest(feed, Kind.RSS)

    assert run.status == Run.Status.PARTIAL
    assert (run.created, run.rejected) == (1, 1)


def test_the_same_guid_from_two_sources_makes_two_notices(aizu) -> None:
    feed = news_feed((1, "お知らせ", "Fri, 16 Jan 2026 09:00:00 +0900", "x"))
    for name in ("a", "b"):
        source = Source.objects.create(name=name, kind=Kind.RSS, url=f"https://{name}.example/")
        ingest(feed, Kind.RSS, source=source)

    assert published_notices().count() == 2


def test_a_feed_read_by_its_path_twice_however_written_makes_one_notice_per_entry(
    aizu, tmp_path
) -> None:
    path = tmp_path / "kanpo.rss"
    path.write_bytes(fixture(KANPO))

    first = ingest_location(kind=Kind.RSS, location=str(path))
    again = ingest_location(kind=Kind.RSS, location=str(tmp_path / "." / "kanpo.rss"))

    assert again.created == 0
    assert again.unchanged == first.created
