"""Changing the account's email address needs a recent password (or second factor), and the old
address is told: a session left open somewhere cannot quietly move the account to another
address (and from there reset its password)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from portal.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.portal.test_accounts import emailed_code

pytestmark = pytest.mark.django_db

OLD = "old@example.jp"
NEW = "new@example.jp"
REAUTHENTICATE = "/accounts/reauthenticate/"


@pytest.fixture
def resident(client: Client) -> User:
    """A resident with a second verified address, whose login was long ago."""
    user = UserFactory.create(email=OLD)
    EmailAddress.objects.create(user=user, email=NEW, verified=True, primary=False)
    client.post("/accounts/login/", {"login": OLD, "password": DEFAULT_PASSWORD})
    session = client.session
    for record in session["account_authentication_methods"]:
        record["at"] = 0
    session.save()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def _addresses(user: User) -> set[tuple[str, bool]]:
    return set(EmailAddress.objects.filter(user=user).values_list("email", "primary"))


def test_adding_an_address_without_recent_authentication_asks_for_the_password(client, resident):
    before = _addresses(resident)
    response = client.post("/accounts/email/", {"action_add": "", "email": "third@example.jp"})
    assert response.status_code == 302
    assert response["Location"].startswith(REAUTHENTICATE)
    assert _addresses(resident) == before
    assert mail.outbox == []


def test_making_another_address_primary_without_recent_authentication_asks_for_the_password(
    client, resident
):
    before = _addresses(resident)
    response = client.post("/accounts/email/", {"action_primary": "", "email": NEW})
    assert response["Location"].startswith(REAUTHENTICATE)
    assert _addresses(resident) == before
    resident.refresh_from_db()
    assert resident.email == OLD


def test_removing_an_address_without_recent_authentication_asks_for_the_password(client, resident):
    before = _addresses(resident)
    response = client.post("/accounts/email/", {"action_remove": "", "email": NEW})
    assert response["Location"].startswith(REAUTHENTICATE)
    assert _addresses(resident) == before


def test_making_another_address_primary_tells_the_old_address(client, resident):
    client.post(REAUTHENTICATE, {"password": DEFAULT_PASSWORD})
    client.post("/accounts/email/", {"action_primary": "", "email": NEW})
    resident.refresh_from_db()
    assert resident.email == NEW
    assert [message.to for message in mail.outbox] == [[OLD]]


def test_a_new_address_becomes_the_login_address_only_after_reauthentication_and_the_old_is_told(
    client,
):
    UserFactory.create(email=OLD)
    client.post("/accounts/login/", {"login": OLD, "password": DEFAULT_PASSWORD})
    client.post(REAUTHENTICATE, {"password": DEFAULT_PASSWORD})
    client.post("/accounts/email/", {"action_add": "", "email": NEW})
    [verification] = mail.outbox
    assert verification.to == [NEW]
    client.post("/accounts/confirm-email/", {"code": emailed_code(str(verification.body))})
    client.post("/accounts/email/", {"action_primary": "", "email": NEW})
    client.post("/accounts/email/", {"action_remove": "", "email": OLD})
    assert list(EmailAddress.objects.values_list("email", "primary", "verified")) == [
        (NEW, True, True)
    ]
    assert OLD in [recipient for message in mail.outbox[1:] for recipient in message.to]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_email_page_shows_the_current_address_and_a_change_form(client, language):
    user = UserFactory.create(email=OLD)
    client.force_login(user)
    response = client.get("/accounts/email/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert OLD in response.content.decode()
    assert 'name="email"' in response.content.decode()


def test_setting_a_first_password_without_recent_authentication_asks_for_a_code(client):
    """The same setting covers allauth's password-set page (an account that logs in by code):
    a session left open cannot give the account a password of someone else's choosing."""
    user = UserFactory.create()
    user.set_unusable_password()
    user.save(update_fields=["password"])
    client.force_login(user)
    response = client.post(
        "/accounts/password/set/",
        {"password1": "aizu-tsuruga-castle-1384", "password2": "aizu-tsuruga-castle-1384"},
    )
    assert response["Location"].startswith("/accounts/reauthenticate/code/")
    user.refresh_from_db()
    assert not user.has_usable_password()
