"""Helpers shared by the tests: consent through the real services, and two-factor
authentication through allauth's real steps. Factories live in tests/factories.py.

TOTP codes come from a controlled clock (time-machine): a code is computed and checked at the
same instant, so no test fails because a 30-second window turned over between the two.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import time_machine
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.db import connection
from django.test import Client
from django.urls import reverse

from consent.models import ConsentEvent, ConsentTerms
from consent.selectors import current_terms
from consent.services import (
    Actor,
    WithdrawalOutcome,
    consent_grant,
    consent_withdraw,
    terms_publish,
)
from portal.models import User
from tests.factories import DEFAULT_PASSWORD

# 160 bits, as allauth generates them (pyotp and some apps refuse shorter secrets).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

# ---------------------------------------------------------------------------------------------
# Consent, through the real services
# ---------------------------------------------------------------------------------------------


def terms_of(purpose: str) -> ConsentTerms:
    terms = current_terms(purpose_code=purpose)
    assert terms is not None, f"no terms for {purpose}"
    return terms


def grant(resident: User, purpose: str, *categories: str) -> ConsentEvent:
    return consent_grant(
        resident=resident,
        terms_id=terms_of(purpose).pk,
        category_codes=list(categories),
        actor=Actor.resident(resident),
    )


def publish_material_change(purpose: str) -> ConsentTerms:
    """A new version of the purpose's terms that names one more recipient (the operator): a
    material change, so consents to the earlier versions wait for the resident to agree again."""
    old = terms_of(purpose)
    return publish_terms_like(
        old,
        recipient_codes=[*old.recipient_codes, "operator"],
        text_ja=old.text_ja + "（委託先を追加）",
        text_en=old.text_en + " (operator added)",
    )


def publish_wording_change(purpose: str, **changes: Any) -> ConsentTerms:
    """A new version of the purpose's terms with new wording and nothing else: consents to the
    earlier versions stay usable."""
    old = terms_of(purpose)
    return publish_terms_like(
        old, text_ja=old.text_ja + "（表現を修正）", text_en=old.text_en + " (wording)", **changes
    )


def publish_terms_like(old: ConsentTerms, **changes: Any) -> ConsentTerms:
    """A new version of ``old``'s purpose's terms: ``old``'s own, with ``changes``."""
    fields = {
        "category_codes": old.category_codes,
        "recipient_codes": old.recipient_codes,
        "text_ja": old.text_ja,
        "text_en": old.text_en,
        "retention_days": old.retention_days,
        "valid_days": old.valid_days,
        "withdrawal_method_ja": old.withdrawal_method_ja,
        "withdrawal_method_en": old.withdrawal_method_en,
    }
    return terms_publish(purpose_code=old.purpose.code, **{**fields, **changes})


def withdraw(
    resident: User, *, purpose: str | None = None, category: str | None = None
) -> WithdrawalOutcome:
    return consent_withdraw(
        resident=resident,
        actor=Actor.resident(resident),
        purpose_code=purpose,
        category_code=category,
    )


def as_table_owner(sql: str, params: list[Any] | None = None, *, tables: list[str]) -> None:
    """Run ``sql`` with the triggers of ``tables`` off, as the role owning them could.

    On PostgreSQL the application role cannot do this (README, "Migration role"); the tests
    do it to show that what the triggers stop is also caught by the ledger's verifier.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


# ---------------------------------------------------------------------------------------------
# Two-factor authentication
# ---------------------------------------------------------------------------------------------


def with_totp(user: User, secret: str = TOTP_SECRET) -> User:
    """Give ``user`` an authenticator app; their session has not used it yet."""
    TOTP.activate(user, secret)
    return user


def totp_code(secret: str = TOTP_SECRET) -> str:
    """What an authenticator app (or oathtool) shows for ``secret`` at this instant of the
    (possibly travelled) clock."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD
    return str(format_hotp_value(hotp_value(secret, counter)))


def start_of_next_totp_window() -> int:
    """The first second of the next TOTP window: a code from there on is a fresh one, which
    allauth accepts even if the current window's code was just used."""
    period = mfa_settings.TOTP_PERIOD
    return (int(time.time()) // period + 1) * period


@contextmanager
def clock_stopped() -> Iterator[None]:
    """Hold the clock at this instant, so that a TOTP code is checked in the window it was
    computed in."""
    with time_machine.travel(time.time(), tick=False):
        yield


def log_in_with_mfa(
    client: Client, user: User, *, password: str = DEFAULT_PASSWORD, secret: str = TOTP_SECRET
) -> None:
    """Log ``user`` (who has an authenticator app) in through allauth's real steps: the
    password, then a TOTP code. The session then carries allauth's record of the second factor,
    which staff pages demand."""
    with clock_stopped():
        credentials = {"login": user.email, "password": password}
        response = client.post(reverse("account_login"), credentials)
        assert response["Location"] == reverse("mfa_authenticate"), response
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
        assert response.status_code == 302, response
    assert "mfa" in authentication_methods(client), "the TOTP step did not complete"
    # Land where the login leads, as a browser would: that page shows (and so uses up) the
    # "signed in" message, which would otherwise appear on the test's first page.
    client.get(response["Location"])


def authentication_methods(client: Client) -> list[str]:
    """The methods allauth recorded for the client's session, oldest first."""
    records = client.session.get(AUTHENTICATION_METHODS_SESSION_KEY, [])
    return [record["method"] for record in records]


def prove_mailbox(client: Client, email: str) -> None:
    """Re-authenticate by the code allauth mails to the account's address (what a staff account
    needs before its first authenticator)."""
    from django.core import mail

    before = len(mail.outbox)
    client.post(reverse("account_request_reauthentication_code"), {"recipient": email})
    [message] = mail.outbox[before:]
    code = re.search(r"^\s*([A-Z0-9]{4}-?[A-Z0-9]{4})\s*$", str(message.body), re.M)
    assert code, message.body
    response = client.post(reverse("account_confirm_reauthentication_code"), {"code": code[1]})
    assert response.status_code == 302, response.content.decode()[:500]
