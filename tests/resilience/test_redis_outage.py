"""Redis is broker and cache only: when it is killed or hangs, signed-in residents keep a working
portal (urgent warnings included), and when it returns everything recovers by itself.

Real processes throughout (tests/resilience/conftest.py): the site under gunicorn in production
mode, a Celery worker and beat, a Redis server of the test's own that the tests SIGKILL and
SIGSTOP.
"""

from __future__ import annotations

import time

import pytest
from django.test import Client

from consent.services import paper_form_batch_issue
from portal.models import OutboxTask
from portal.notices.models import Notice
from portal.notices.services import NoticeDraft, notice_create, notice_emergency_publish
from tests.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory
from tests.helpers import log_in_with_mfa, with_totp
from tests.resilience.processes import Browser, Site, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Django's own default: the site process checks passwords with it (the tests' fast MD5 hasher is
# not one the production settings accept).
PRODUCTION_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]


def signed_in(site: Site, user: object) -> Browser:
    """A browser holding a session of ``user`` (sessions live in the database, as the site's)."""
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    browser = Browser(site.url)
    browser.set_cookie("sessionid", client.cookies["sessionid"].value)
    return browser


def urgent_warning(title: str) -> Notice:
    """A warning for everyone, published by a disaster officer (from the test process, whose
    broker is not the one that is down: only the site's web process is cut off)."""
    officer = StaffFactory.create(roles=["disaster_officer"])
    notice = notice_create(
        author=officer,
        draft=NoticeDraft(category="disaster", urgency="warning", title_ja=title),
    )
    return notice_emergency_publish(officer=officer, notice_id=notice.pk)


def log_in(site: Site, email: str, password: str) -> tuple[Browser, int]:
    browser = Browser(site.url)
    browser.get("/accounts/login/")
    response = browser.post("/accounts/login/", {"login": email, "password": password})
    return browser, response.status


def test_with_redis_killed_a_signed_in_resident_gets_home_and_my_data_within_a_second(
    site: Site, own_redis
) -> None:
    site.start_web()
    resident = UserFactory.create()
    browser = signed_in(site, resident)
    assert browser.get("/me/").status == 200

    own_redis.kill()
    published_during_the_outage = urgent_warning("大雪警報（停電中も表示）")

    for path in ("/", "/me/", "/", "/me/"):
        response = browser.get(path)
        assert response.status == 200, (path, response.text[:500], site.logs())
        assert response.seconds < 1.0, (path, response.seconds)
        assert "Log out" in response.text
    assert "<h1>My data</h1>" in browser.get("/me/").text
    assert published_during_the_outage.title_ja in browser.get("/").text


def test_with_redis_killed_the_log_says_what_is_degraded(site: Site, own_redis) -> None:
    web = site.start_web()
    own_redis.kill()

    log_in(site, "nobody@example.jp", "wrong-password")

    log = web.log()
    assert "Redis cache at redis://127.0.0.1" in log
    assert "unreachable (ConnectionError" in log
    assert "degraded, serving from the database table portal_cache_fallback" in log


def test_with_redis_killed_residents_log_in_and_out(site: Site, own_redis, settings) -> None:
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    resident = UserFactory.create()
    site.start_web()
    own_redis.kill()

    browser, status = log_in(site, resident.email, DEFAULT_PASSWORD)

    assert status == 302
    assert "<h1>My data</h1>" in browser.get("/me/").text
    assert browser.post("/accounts/logout/", {}).status == 302
    assert browser.get("/me/").status == 302  # to the login page


def test_with_redis_killed_failed_logins_are_still_rate_limited(
    site: Site, own_redis, settings
) -> None:
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    resident = UserFactory.create()
    site.start_web()
    own_redis.kill()
    browser = Browser(site.url)
    browser.get("/accounts/login/")

    answers = [
        browser.post("/accounts/login/", {"login": resident.email, "password": "not-it"}).text
        for _ in range(6)
    ]

    assert "Too many failed login attempts" not in answers[0]
    assert "Too many failed login attempts" in answers[-1]
    # Even the right password waits now: the limit is on the account, not on the guess.
    _, status = log_in(site, resident.email, DEFAULT_PASSWORD)
    assert status == 200


def test_with_redis_hung_no_request_waits_more_than_about_a_second(
    site: Site, own_redis, settings
) -> None:
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    resident = UserFactory.create()
    site.start_web()
    browser = signed_in(site, resident)
    browser.get("/")

    own_redis.pause()
    try:
        timings = {}
        for path in ("/", "/me/"):
            response = browser.get(path)
            assert response.status == 200, (path, response.status)
            timings[path] = response.seconds
        login_page = Browser(site.url).get("/accounts/login/")
        assert login_page.status == 200
        timings["/accounts/login/"] = login_page.seconds
        health = site.health()
        _, status = log_in(site, resident.email, "not-the-password")
    finally:
        own_redis.resume()

    assert status == 200  # the form again, with its error
    assert all(seconds < 1.2 for seconds in timings.values()), timings
    assert health["status"] == "degraded"
    assert float(health["seconds"]) < 2.0, health


def test_healthz_says_degraded_while_redis_is_down_and_ok_again_without_a_restart(
    site: Site, own_redis
) -> None:
    site.start_web()
    site.start_worker()
    site.start_beat()
    wait_for(lambda: site.health()["status"] == "ok", timeout=60, what="a healthy site")

    own_redis.kill()
    # /healthz asks the broker at most every few seconds (portal/infra/health.py).
    down = wait_for(lambda: _broker_failed(site.health()), timeout=10, what="a broker error")
    own_redis.start()
    wait_for(lambda: site.health()["status"] == "ok", timeout=120, what="the site to recover")

    assert isinstance(down, dict)
    assert down["http_status"] == "200"
    assert down["status"] == "degraded"
    assert down["database"] == "ok"
    assert down["broker"].startswith("error:")
    assert down["cache"].startswith("degraded:")
    assert float(down["seconds"]) < 2.0, down


def _broker_failed(health: dict[str, str]) -> dict[str, str] | None:
    return health if health["broker"].startswith("error:") else None


def test_a_task_enqueued_while_redis_is_down_reaches_the_worker_once_it_returns(
    site: Site, own_redis
) -> None:
    officer = StaffFactory.create(roles=["consent_officer"])
    reference = paper_form_batch_issue(officer=officer, size=1, issued_to="Counter").forms.get()
    resident = UserFactory.create()
    clerk_client = Client()
    log_in_with_mfa(clerk_client, with_totp(StaffFactory.create(roles=["counter_clerk"])))
    site.start_web()
    site.start_worker()
    site.start_beat()
    clerk = Browser(site.url)
    clerk.set_cookie("sessionid", clerk_client.cookies["sessionid"].value)
    assert clerk.get("/staff/consent/counter/").status == 200

    own_redis.kill()
    response = clerk.post(
        "/staff/consent/counter/",
        {
            "email": resident.email,
            "purpose": "disaster_warnings",
            "categories_disaster_warnings": ["places", "location"],
            "action": "grant",
            "paper_form_reference": reference.reference,
            "terms_version": 1,
        },
    )
    assert response.status == 302, response.text[:1000]
    assert response.seconds < 1.0
    assert OutboxTask.objects.filter(task_name="consent.send_counter_notice").count() == 1
    time.sleep(2)
    assert not list(site.mail_dir.iterdir()), "no email can have gone out with Redis down"

    own_redis.start()

    def emailed() -> bool:
        return any(reference.reference in body for body in site.emails())

    try:
        wait_for(emailed, timeout=120, what="the counter notice to be emailed")
    except AssertionError as error:
        raise AssertionError(site.logs()) from error
    assert not OutboxTask.objects.exists()
