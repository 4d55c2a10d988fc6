"""Beat polls due sources with conditional GET, a timeout and a size limit; a failing source
backs off, is flagged after repeated failures, and never stops the others."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.feeds.models import FetchedDocument, Kind, Run, Source
from portal.feeds.services import source_poll, sources_claim_due
from portal.notices.models import Notice
from tests.feeds.conftest import fixture

pytestmark = pytest.mark.django_db

ALERT = fixture("cap/aizu/aizu_heavy_snow_alert.xml")


def a_source(url: str, kind: str = Kind.CAP, **fields: object) -> Source:
    return Source.objects.create(name=url.rsplit("/", 1)[-1], kind=kind, url=url, **fields)


def test_a_poll_ingests_what_the_source_serves_and_remembers_its_validators(aizu, server) -> None:
    source = a_source(server.serve("/alert.xml", ALERT))

    run = source_poll(source_id=source.pk)

    source.refresh_from_db()
    assert (run.status, run.http_status, run.created) == (Run.Status.OK, 200, 1)
    assert source.etag and source.last_modified
    assert source.last_success_at is not None
    assert Notice.objects.count() == 1


def test_an_unchanged_source_answers_304_and_nothing_is_parsed_again(aizu, server) -> None:
    source = a_source(server.serve("/alert.xml", ALERT))
    source_poll(source_id=source.pk)

    again = source_poll(source_id=source.pk)

    assert (again.status, again.http_status, again.fetched) == (Run.Status.NOT_MODIFIED, 304, 0)
    _path, headers = server.requests[-1]
    assert headers.get("If-None-Match") == server.routes["/alert.xml"].etag


def test_a_source_that_does_not_answer_in_time_fails_and_backs_off(aizu, server, settings) -> None:
    settings.FEEDS_FETCH_TIMEOUT = 0.3
    source = a_source(server.serve("/slow.xml", ALERT, delay=2), interval=timedelta(minutes=5))
    before = timezone.now()

    run = source_poll(source_id=source.pk, now=before)

    source.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert "no answer within" in run.problems[0]["reason"]
    assert source.consecutive_failures == 1
    assert source.next_poll_at >= before + timedelta(minutes=10)
    assert not Notice.objects.exists()


def test_the_backoff_doubles_with_each_failure_up_to_its_ceiling(aizu, server, settings) -> None:
    settings.FEEDS_MAX_BACKOFF_SECONDS = 3600
    source = a_source(server.serve("/gone.xml", b"", status=500), interval=timedelta(minutes=5))
    now = timezone.now()

    delays = []
    for _ in range(5):
        source_poll(source_id=source.pk, now=now)
        source.refresh_from_db()
        delays.append(round((source.next_poll_at - now).total_seconds() / 60))

    assert delays == [10, 20, 40, 60, 60]


def test_a_source_failing_three_times_in_a_row_is_flagged_and_a_success_clears_it(
    aizu, server
) -> None:
    url = server.serve("/flaky.xml", b"", status=503)
    source = a_source(url)
    for _ in range(3):
        source_poll(source_id=source.pk)
    source.refresh_from_db()
    assert source.is_failing
    assert "HTTP 503" in source.last_error

    server.serve("/flaky.xml", ALERT)
    source_poll(source_id=source.pk)

    source.refresh_from_db()
    assert not source.is_failing
    assert source.last_error == ""


def test_a_document_larger_than_the_limit_is_refused_however_the_server_declares_it(
    aizu, server, settings
) -> None:
    settings.FEEDS_MAX_DOCUMENT_BYTES = 1000
    honest = a_source(server.serve("/big.xml", ALERT + b" " * 2000))
    # No Content-Length at all: the body runs until the server closes the connection.
    lying = a_source(server.serve("/lying.xml", ALERT + b" " * 2000, declared_length=-1))

    runs = [source_poll(source_id=s.pk) for s in (honest, lying)]

    assert [run.status for run in runs] == [Run.Status.FAILED, Run.Status.FAILED]
    assert all("limit" in run.problems[0]["reason"] for run in runs)
    assert not Notice.objects.exists()


def test_an_html_error_page_counts_as_a_failure_of_the_source(aizu, server) -> None:
    page = b"<!doctype html><html><body><h1>Maintenance</h1></body></html>"
    source = a_source(server.serve("/news.rss", page, content_type="text/html"), kind=Kind.RSS)

    run = source_poll(source_id=source.pk)

    source.refresh_from_db()
    assert run.status == Run.Status.REFUSED
    assert source.consecutive_failures == 1


def test_only_enabled_sources_whose_time_has_come_are_claimed_and_only_once(aizu) -> None:
    now = timezone.now()
    due = a_source("http://127.0.0.1:9/due.xml", next_poll_at=now - timedelta(seconds=1))
    a_source("http://127.0.0.1:9/later.xml", next_poll_at=now + timedelta(minutes=1))
    a_source("http://127.0.0.1:9/off.xml", enabled=False, next_poll_at=now)

    assert sources_claim_due(now=now) == [due.pk]
    assert sources_claim_due(now=now) == []


def test_a_failing_source_does_not_stop_the_others(aizu, server, settings) -> None:
    settings.FEEDS_FETCH_TIMEOUT = 0.3
    broken = a_source(server.serve("/slow.xml", ALERT, delay=2))
    healthy = a_source(server.serve("/alert.xml", ALERT))

    runs = [source_poll(source_id=source_id) for source_id in sources_claim_due()]

    assert {run.source_id: run.status for run in runs} == {
        broken.pk: Run.Status.FAILED,
        healthy.pk: Run.Status.OK,
    }


def test_a_jma_atom_feed_leads_to_its_documents_each_fetched_once(aizu, server) -> None:
    report = fixture("jmaxml/real_fukushima_shirasagi/afeedc52-107a-3d1d-9196-b108234d6e0f.xml")
    document_url = server.serve("/data/afeedc52.xml", report)
    feed = (
        fixture("jmaxml/real_fukushima_shirasagi/jma_atom_feed_extra_fukushima_2016-03-10.xml")
        .replace(
            b"http://xml.kishou.go.jp/data/afeedc52-107a-3d1d-9196-b108234d6e0f.xml",
            document_url.encode(),
        )
        .replace(
            b"http://xml.kishou.go.jp/data/2b441518-4e79-342c-a271-7c25597f3a69.xml",
            server.url("/data/missing.xml").encode(),
        )
    )
    source = a_source(server.serve("/extra.xml", feed), kind=Kind.JMA)

    first = source_poll(source_id=source.pk)
    server.serve("/extra.xml", feed + b"\n")  # a new ETag: the feed is read again
    second = source_poll(source_id=source.pk)

    assert first.fetched == 2  # the feed and the one document it could fetch
    assert first.rejected == 1  # the missing one, with its reason
    assert server.hits("/data/afeedc52.xml") == 1
    assert second.fetched == 1
    assert server.hits("/data/missing.xml") == 2  # a failed fetch is tried again
    assert FetchedDocument.objects.filter(url=document_url).exists()


def test_a_redirect_within_the_same_host_is_followed(aizu, server) -> None:
    server.serve("/new/alert.xml", ALERT)
    source = a_source(server.serve("/old/alert.xml", redirect_to=server.url("/new/alert.xml")))

    run = source_poll(source_id=source.pk)

    assert (run.status, run.created) == (Run.Status.OK, 1)


def test_a_redirect_to_another_host_is_not_followed(aizu, server) -> None:
    elsewhere = f"http://localhost:{server.port}/alert.xml"
    server.serve("/alert.xml", ALERT)
    source = a_source(server.serve("/moved.xml", redirect_to=elsewhere))

    run = source_poll(source_id=source.pk)

    assert run.status == Run.Status.FAILED
    assert "another host" in run.problems[0]["reason"]
    assert server.hits("/alert.xml") == 0


def test_a_jma_atom_feed_linking_to_another_host_is_not_followed(aizu, server) -> None:
    feed = fixture(
        "jmaxml/real_fukushima_shirasagi/jma_atom_feed_extra_fukushima_2016-03-10.xml"
    ).replace(
        b"http://xml.kishou.go.jp/data/",
        f"http://localhost:{server.port}/data/".encode(),
    )
    source = a_source(server.serve("/extra.xml", feed), kind=Kind.JMA)

    run = source_poll(source_id=source.pk)

    assert run.rejected == 2
    assert all("another host" in problem["reason"] for problem in run.problems)
    assert not any(path.startswith("/data/") for path, _headers in server.requests)


def test_a_server_that_dribbles_its_answer_is_cut_off(aizu, server, settings) -> None:
    settings.FEEDS_FETCH_TIMEOUT = 0.2
    source = a_source(server.serve("/drip.xml", ALERT, drip=0.1))

    run = source_poll(source_id=source.pk)

    assert run.status == Run.Status.FAILED
    assert "took too long" in run.problems[0]["reason"]
