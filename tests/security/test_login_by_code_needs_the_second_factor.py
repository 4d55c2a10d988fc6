"""Attacks on MFA per session: logging in by emailed code must not skip the second factor."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from consent.models import PaperForm
from tests.factories import StaffFactory
from tests.helpers import authentication_methods, with_totp

pytestmark = pytest.mark.django_db


def test_login_by_code_does_not_open_the_register_without_the_second_factor(client) -> None:
    officer = with_totp(StaffFactory.create(roles=["consent_officer"]))
    client.post(reverse("account_request_login_code"), {"email": officer.email})
    [email] = mail.outbox
    code = re.search(r"^\s*([A-Z0-9]{4}-?[A-Z0-9]{4})\s*$", str(email.body), re.M)
    assert code, email.body
    response = client.post(reverse("account_confirm_login_code"), {"code": code.group(1)})
    # either allauth asks for the TOTP code next, or the session has no "mfa" record
    assert "mfa" not in authentication_methods(client)
    response = client.get("/staff/consent/register/")
    assert response.status_code == 302
    assert not response["Location"].startswith("/staff/")
    response = client.post(
        "/staff/consent/register/",
        {"action": "issue", "issue-size": 5, "issue-issued_to": "x"},
    )
    assert response.status_code in (302, 403)
    assert PaperForm.objects.count() == 0
