"""A session gets only the powers it proved: gaining an authenticator or a staff power ends the
account's other sessions, and recovery codes need a recent second factor, not a password.

Each test reproduces an attack that worked when MFA was checked on the account (issue #7, 1).
"""

from __future__ import annotations

import pytest
import time_machine
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory
from tests.helpers import (
    clock_stopped,
    log_in_with_mfa,
    prove_mailbox,
    start_of_next_totp_window,
    totp_code,
    with_totp,
)

pytestmark = pytest.mark.django_db


def logged_in_by_password(user) -> Client:
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    return client


def is_signed_in(client: Client) -> bool:
    return client.get(reverse("me:data")).status_code == 200


def activate_totp_through_allauth(client: Client, email: str) -> None:
    # allauth asks for the password again before adding an authenticator; a staff account's
    # first one needs a code from its mailbox as well.
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    prove_mailbox(client, email)
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    with clock_stopped():
        response = client.post(
            reverse("mfa_activate_totp"), {"code": totp_code(secret), "signup_code": ""}
        )
    assert response.status_code == 302, response.content.decode()[:500]


# allauth announces a new authenticator after commit: with no test transaction around the
# request, that happens inside it, as in production.
@pytest.mark.django_db(transaction=True)
def test_enrolling_totp_ends_a_session_opened_before_with_the_password_alone() -> None:
    staff = StaffFactory.create(roles=["counter_clerk"])
    attacker = logged_in_by_password(staff)
    owner = logged_in_by_password(staff)

    activate_totp_through_allauth(owner, staff.email)

    assert not is_signed_in(attacker)
    assert attacker.get("/staff/consent/counter/").status_code == 302


# allauth announces a new authenticator after commit: with no test transaction around the
# request, that happens inside it, as in production.
@pytest.mark.django_db(transaction=True)
def test_the_session_that_enrolled_totp_stays_signed_in() -> None:
    staff = StaffFactory.create(roles=["counter_clerk"])
    owner = logged_in_by_password(staff)

    activate_totp_through_allauth(owner, staff.email)

    assert is_signed_in(owner)


def test_granting_a_staff_role_ends_the_accounts_sessions() -> None:
    resident = UserFactory.create()
    with_totp(resident)
    session = Client()
    log_in_with_mfa(session, resident)

    resident.groups.add(Group.objects.get(name="counter_clerk"))

    assert not is_signed_in(session)


def test_granting_a_role_from_the_groups_side_ends_the_accounts_sessions() -> None:
    resident = UserFactory.create()
    session = logged_in_by_password(resident)

    Group.objects.get(name="publisher").user_set.add(resident)

    assert not is_signed_in(session)


def test_raising_the_staff_flag_ends_the_accounts_sessions() -> None:
    resident = UserFactory.create()
    session = logged_in_by_password(resident)

    resident.is_staff = True
    resident.save(update_fields=["is_staff"])

    assert not is_signed_in(session)


def test_an_unrelated_change_to_the_account_keeps_its_sessions() -> None:
    resident = UserFactory.create()
    session = logged_in_by_password(resident)

    resident.first_name = "花子"
    resident.save()

    assert is_signed_in(session)


@pytest.mark.parametrize(
    "url_name",
    ["mfa_view_recovery_codes", "mfa_generate_recovery_codes", "mfa_download_recovery_codes"],
)
def test_recovery_codes_need_a_recent_second_factor_not_a_password(url_name) -> None:
    staff = with_totp(StaffFactory.create())
    RecoveryCodes.activate(staff)
    session = Client()
    log_in_with_mfa(session, staff)
    # Long ago in session terms: only a fresh password re-authentication is recent.
    records = session.session["account_authentication_methods"]
    for record in records:
        record["at"] -= 3600
    stored = session.session
    stored["account_authentication_methods"] = records
    stored.save()
    session.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})

    response = session.get(reverse(url_name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


def test_recovery_codes_open_right_after_the_second_factor() -> None:
    staff = with_totp(StaffFactory.create())
    RecoveryCodes.activate(staff)
    session = Client()
    log_in_with_mfa(session, staff)
    # Where the page sends a session without a fresh second factor: a code from the next window
    # (the login's code is used up).
    with time_machine.travel(start_of_next_totp_window(), tick=False):
        session.post(reverse("mfa_reauthenticate"), {"code": totp_code()})
        response = session.get(reverse("mfa_view_recovery_codes"))

    assert response.status_code == 200


def test_saving_last_login_alone_does_not_look_up_the_staff_flags(
    django_assert_num_queries,
) -> None:
    resident = UserFactory.create()
    resident.last_login = resident.date_joined

    with django_assert_num_queries(1):  # the UPDATE itself
        resident.save(update_fields=["last_login"])
