"""Accounts are django-allauth's: verified email, strong passwords, rate limits, codes."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from portal.models import User
from tests.conftest import raw_redis
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "aizu-tsuruga-castle-1384"


def emailed_code(body: str) -> str:
    match = re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", body)
    assert match, f"no code in the email:\n{body}"
    return match.group(0)


def sign_up(client, email: str = "new@example.jp", password: str = GOOD_PASSWORD):
    return client.post(
        "/accounts/signup/", {"email": email, "password1": password, "password2": password}
    )


def test_sign_up_sends_a_verification_code_and_does_not_log_in_yet(client) -> None:
    response = sign_up(client)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.jp"]
    assert not EmailAddress.objects.get(email="new@example.jp").verified
    assert "_auth_user_id" not in client.session


def test_entering_the_emailed_code_verifies_the_address_and_logs_in(client) -> None:
    sign_up(client)
    code = emailed_code(str(mail.outbox[0].body))
    response = client.post("/accounts/confirm-email/", {"code": code})
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="new@example.jp").verified
    assert client.session["_auth_user_id"] == str(User.objects.get(email="new@example.jp").pk)


def test_a_wrong_verification_code_is_refused_and_verifies_nothing(client) -> None:
    sign_up(client)
    response = client.post("/accounts/confirm-email/", {"code": "AAAA-AAAA"})
    assert response.status_code == 200
    assert not EmailAddress.objects.get(email="new@example.jp").verified


def test_passwords_shorter_than_12_characters_are_refused_and_no_account_is_made(client) -> None:
    response = sign_up(client, password="Short-pw-1")
    assert response.status_code == 200
    assert "12" in response.content.decode()
    assert not User.objects.filter(email="new@example.jp").exists()
    assert mail.outbox == []


def test_sign_up_with_a_taken_email_address_does_not_create_a_second_account(client) -> None:
    UserFactory.create(email="taken@example.jp")
    sign_up(client, email="taken@example.jp")
    assert User.objects.filter(email="taken@example.jp").count() == 1


def test_verified_resident_logs_in_with_email_and_password(client) -> None:
    user = UserFactory.create()
    response = client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_by_emailed_code_is_offered(client) -> None:
    user = UserFactory.create()
    response = client.post("/accounts/login/code/", {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1


def test_password_reset_mails_a_link(client) -> None:
    user = UserFactory.create()
    client.post("/accounts/password/reset/", {"email": user.email})
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_after_five_failed_logins_even_the_right_password_is_refused_for_a_while(client) -> None:
    """allauth counts failures in the shared Redis cache, so every web process sees them."""
    user = UserFactory.create()
    for _ in range(5):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong-password!"})
    response = client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert cache_has_rate_limit_keys()


def cache_has_rate_limit_keys() -> bool:
    return any(b":rl:" in key for key in raw_redis().scan_iter(match="*"))


def test_changing_the_password_requires_the_current_one(client) -> None:
    user = UserFactory.create()
    client.force_login(user)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": "not-my-password", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD},
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_activating_totp_requires_recent_reauthentication(client) -> None:
    user = UserFactory.create()
    client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    # Pretend the login happened long ago, so a sensitive change asks for the password again.
    session = client.session
    for record in session.get("account_authentication_methods", []):
        record["at"] = 0
    session.save()
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 302
    assert "/accounts/reauthenticate/" in response["Location"]
