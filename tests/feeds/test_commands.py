"""``ingest_jmaxml``, ``ingest_cap`` and ``ingest_feed`` take a file or a URL, print what they
created, updated and refused, and exit non-zero when they refused anything."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.feeds.models import Run
from portal.notices.models import Notice
from tests.feeds.conftest import FIXTURES, fixture

pytestmark = pytest.mark.django_db


def run_command(name: str, location: str, capsys: pytest.CaptureFixture[str]) -> str:
    call_command(name, location)
    return capsys.readouterr().out


def test_ingest_cap_reads_a_file_and_prints_what_it_created(aizu, capsys) -> None:
    out = run_command("ingest_cap", str(FIXTURES / "cap/aizu/aizu_heavy_snow_alert.xml"), capsys)

    notice = Notice.objects.get()
    assert f"created #{notice.pk}" in out
    assert "created 1" in out
    assert Run.objects.get().origin == Run.Origin.COMMAND


def test_ingest_cap_refuses_the_xxe_sample_exits_non_zero_and_stores_nothing(aizu, capsys) -> None:
    xxe = FIXTURES / "cap/google_cap-library/negative_tests/testdata_xee.cap"

    with pytest.raises(CommandError, match="refused 1"):
        call_command("ingest_cap", str(xxe))

    assert "DTD" in capsys.readouterr().err
    assert not Notice.objects.exists()


def test_ingest_feed_reads_a_url(aizu, server, capsys) -> None:
    url = server.serve("/kanpo.rss", fixture("rss_atom/kanpo_unofficial_feed_2025-07-24.xml"))

    out = run_command("ingest_feed", url, capsys)

    assert Notice.objects.count() > 0
    assert f"created {Notice.objects.count()}" in out


def test_ingest_jmaxml_says_why_it_cannot_read_a_missing_file(aizu, capsys) -> None:
    with pytest.raises(CommandError):
        call_command("ingest_jmaxml", "/nonexistent/report.xml")

    assert "cannot read /nonexistent/report.xml" in capsys.readouterr().err


def test_ingest_jmaxml_reads_the_real_fukushima_report(aizu, capsys) -> None:
    path = FIXTURES / "jmaxml/real_fukushima_shirasagi/2b441518-4e79-342c-a271-7c25597f3a69.xml"

    out = run_command("ingest_jmaxml", str(path), capsys)

    assert "unchanged 1" in out


def test_a_url_that_does_not_answer_is_a_refusal(aizu, server, capsys, settings) -> None:
    settings.FEEDS_FETCH_TIMEOUT = 0.3
    url = server.serve("/slow.xml", b"<alert/>", delay=2)

    with pytest.raises(CommandError):
        call_command("ingest_cap", url)

    assert "no answer within" in capsys.readouterr().err
