"""A staff account's first authenticator needs its mailbox, not only its password: whoever
stole the password of staff who have not enrolled yet cannot enrol their own app (review of
issue 7). Staff cannot change that mailbox themselves."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory
from tests.helpers import clock_stopped, prove_mailbox, totp_code

pytestmark = pytest.mark.django_db

ACTIVATE = "/accounts/2fa/totp/activate/"


def logged_in_by_password(user) -> Client:
    client = Client()
    client.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    return client


def try_to_activate(client: Client) -> None:
    client.get(ACTIVATE)
    secret = client.session.get(SECRET_SESSION_KEY, "JBSWY3DPEHPK3PXP")
    with clock_stopped():
        client.post(ACTIVATE, {"code": totp_code(secret), "signup_code": ""})


def test_a_password_thief_cannot_enrol_an_authenticator_for_staff() -> None:
    officer = StaffFactory.create(roles=["consent_officer"])
    thief = logged_in_by_password(officer)

    response = thief.get(ACTIVATE)
    try_to_activate(thief)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_request_reauthentication_code"))
    assert not Authenticator.objects.filter(user=officer).exists()
    assert thief.get("/staff/consent/register/").status_code == 302


def test_staff_who_read_the_code_from_their_mailbox_enrol_their_authenticator() -> None:
    clerk = StaffFactory.create(roles=["counter_clerk"])
    owner = logged_in_by_password(clerk)
    prove_mailbox(owner, clerk.email)

    try_to_activate(owner)

    assert Authenticator.objects.filter(user=clerk, type="totp").exists()


def test_a_resident_enrols_an_authenticator_with_the_password() -> None:
    resident = UserFactory.create()
    client = logged_in_by_password(resident)

    try_to_activate(client)

    assert Authenticator.objects.filter(user=resident, type="totp").exists()


def test_staff_cannot_change_their_own_address() -> None:
    clerk = StaffFactory.create(roles=["counter_clerk"])
    client = logged_in_by_password(clerk)

    response = client.post(
        reverse("account_email"), {"action_add": "", "email": "thief@example.jp"}
    )

    assert response.status_code == 403
    assert not EmailAddress.objects.filter(user=clerk, email="thief@example.jp").exists()
