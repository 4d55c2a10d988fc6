"""Staff sessions end STAFF_SESSION_AGE (12 hours) after the login, whatever "remember me" said;
residents keep allauth's two weeks."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.http import HttpResponseBase
from django.test import Client

from portal.models import User
from tests.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory
from tests.helpers import clock_stopped, totp_code, with_totp

pytestmark = pytest.mark.django_db

TWELVE_HOURS = 12 * 3600
TWO_WEEKS = 14 * 24 * 3600


def log_in_remembered(client: Client, user: User) -> HttpResponseBase:
    """allauth's login with "remember me" ticked, and the TOTP step for an account with one."""
    with clock_stopped():
        response = client.post(
            "/accounts/login/",
            {"login": user.email, "password": DEFAULT_PASSWORD, "remember": "on"},
        )
        if response["Location"] == "/accounts/2fa/authenticate/":
            response = client.post("/accounts/2fa/authenticate/", {"code": totp_code()})
    assert client.session.get("_auth_user_id") == str(user.pk)
    return response


@pytest.fixture
def staff() -> User:
    return with_totp(StaffFactory.create(roles=["publisher"]))


def test_a_remembered_staff_login_lasts_twelve_hours_at_most(client, staff) -> None:
    log_in_remembered(client, staff)
    assert TWELVE_HOURS - 60 < client.session.get_expiry_age() <= TWELVE_HOURS


def test_the_staff_session_cookie_expires_within_twelve_hours(client, staff) -> None:
    response = log_in_remembered(client, staff)
    assert 0 < int(response.cookies["sessionid"]["max-age"]) <= TWELVE_HOURS


def test_a_staff_account_without_an_authenticator_yet_gets_twelve_hours_too(client) -> None:
    staff = StaffFactory.create(roles=["publisher"])
    log_in_remembered(client, staff)
    client.get("/")
    assert client.session.get_expiry_age() <= TWELVE_HOURS


def test_a_staff_session_is_logged_out_once_its_age_has_passed(client, staff) -> None:
    log_in_remembered(client, staff)
    with time_machine.travel(time.time() + TWELVE_HOURS + 1, tick=False):
        response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_staff_session_age_is_a_setting(client, staff, settings) -> None:
    settings.STAFF_SESSION_AGE = 3600
    log_in_remembered(client, staff)
    assert client.session.get_expiry_age() <= 3600


def test_a_remembered_resident_login_keeps_two_weeks(client) -> None:
    resident = UserFactory.create()
    log_in_remembered(client, resident)
    client.get("/")
    assert client.session.get_expiry_age() == TWO_WEEKS
