"""/staff/feeds/ shows sources (failing ones flagged) and runs with what they refused and why,
to disaster officers and administrators behind the staff gate; "poll now" asks the worker."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from portal.feeds.models import Kind, Run, Source
from portal.feeds.tasks import poll_source
from portal.models import OutboxTask
from tests.factories import StaffFactory, UserFactory
from tests.helpers import log_in_with_mfa, with_totp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_pages")]


def logged_in(client: Any, user: Any) -> Any:
    log_in_with_mfa(client, with_totp(user))
    return client


@pytest.fixture
def officer_client(client: Any) -> Any:
    return logged_in(client, StaffFactory.create(roles=["disaster_officer"]))


@pytest.fixture
def source() -> Source:
    return Source.objects.create(
        name="気象庁 extra", kind=Kind.JMA, url="http://127.0.0.1:9/extra.xml"
    )


def test_a_disaster_officer_sees_the_sources_and_the_runs_with_their_counts(
    officer_client, source
) -> None:
    Run.objects.create(
        source=source, kind=Kind.JMA, origin="beat", location=source.url, status="partial",
        fetched=3, created=2, rejected=1,
        problems=[{"reference": "VPTI50", "reason": "unsupported JMA information type"}],
    )  # fmt: skip

    page = officer_client.get(reverse("feeds_staff:overview"))

    assert page.status_code == 200
    assert "気象庁 extra" in page.text
    assert "Partly refused" in page.text or "partly refused" in page.text


def test_a_run_shows_what_it_refused_and_why(officer_client, source) -> None:
    run = Run.objects.create(
        source=source, kind=Kind.JMA, origin="beat", location=source.url, status="refused",
        rejected=1, problems=[{"reference": "testdata_xee.cap", "reason": "declares a DTD"}],
    )  # fmt: skip

    page = officer_client.get(reverse("feeds_staff:run", args=[run.pk]))

    assert "testdata_xee.cap" in page.text
    assert "declares a DTD" in page.text


def test_a_source_failing_repeatedly_is_flagged(officer_client, source) -> None:
    Source.objects.filter(pk=source.pk).update(
        consecutive_failures=4, last_error="the server answered HTTP 503"
    )

    page = officer_client.get(reverse("feeds_staff:overview"))

    assert "Failing sources" in page.text
    assert "the server answered HTTP 503" in page.text


def test_poll_now_hands_the_source_to_the_worker(officer_client, source) -> None:
    response = officer_client.post(reverse("feeds_staff:poll", args=[source.pk]))

    assert response.status_code == 302
    task = OutboxTask.objects.get(task_name=poll_source.name)
    assert task.kwargs == {"source_id": source.pk, "origin": "staff"}


def test_a_resident_may_not_see_the_feeds(client) -> None:
    client.force_login(UserFactory.create())

    assert client.get(reverse("feeds_staff:overview")).status_code == 403


def test_a_publisher_without_the_feeds_permission_may_not_see_them(client) -> None:
    logged_in(client, StaffFactory.create(roles=["publisher"]))

    assert client.get(reverse("feeds_staff:overview")).status_code == 403


def test_poll_now_only_by_post(officer_client, source) -> None:
    assert officer_client.get(reverse("feeds_staff:poll", args=[source.pk])).status_code == 405


def test_the_reasons_the_connectors_give_are_shown_in_japanese(client, source) -> None:
    logged_in(client, StaffFactory.create(roles=["disaster_officer"]))
    run = Run.objects.create(
        source=source, kind=Kind.JMA, origin="beat", location=source.url, status="skipped",
        skipped=1, problems=[{
            "reference": "a.xml", "skipped": True,
            "reason": "concerns none of the configured areas (codes: jma 0720400 いわき市)",
        }],
    )  # fmt: skip

    page = client.get(reverse("feeds_staff:run", args=[run.pk]), HTTP_ACCEPT_LANGUAGE="ja")

    assert "設定された地域のいずれにも関係しません（codes: jma 0720400 いわき市）" in page.text
