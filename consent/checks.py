"""Deployment checks (``manage.py check --deploy``) of the key that signs the consent ledger."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning

# As Django asks of SECRET_KEY (security.W009): long enough that nobody guesses it.
MIN_SIGNING_KEY_LENGTH = 50


@register(Tags.security, deploy=True)
def ledger_signing_key_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    key: str = settings.LEDGER_SIGNING_KEY
    if not key:
        return [
            CheckWarning(
                "LEDGER_SIGNING_KEY is not set: the consent ledger is signed with a key derived "
                "from SECRET_KEY, so rotating SECRET_KEY would make every event's signature "
                "fail verification.",
                hint="Set LEDGER_SIGNING_KEY to a long random value of its own, kept out of "
                "the database; to keep the events signed so far verifying, put the derived key "
                "(consent.signing.derived_signing_key()) in LEDGER_SIGNING_KEY_FALLBACKS.",
                id="consent.W001",
            )
        ]
    if len(key) < MIN_SIGNING_KEY_LENGTH or key == settings.SECRET_KEY:
        return [
            CheckWarning(
                f"LEDGER_SIGNING_KEY is shorter than {MIN_SIGNING_KEY_LENGTH} characters or is "
                "SECRET_KEY: a guessed key, or one leaked for another purpose, lets whoever can "
                "write the database re-sign a rewritten consent ledger.",
                hint="Set LEDGER_SIGNING_KEY to a random value of its own, at least "
                f"{MIN_SIGNING_KEY_LENGTH} characters long, and put the current one in "
                "LEDGER_SIGNING_KEY_FALLBACKS.",
                id="consent.W002",
            )
        ]
    return []
