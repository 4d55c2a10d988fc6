"""The keyed signature of each consent ledger event (HMAC-SHA256 of the event's chain hash).

The hash chain alone shows a change to one event only to someone who did not also recompute
every later hash; anyone able to write the database can do that. The signature needs a key
the database never holds (settings.LEDGER_SIGNING_KEY), so a rewritten event no longer
verifies (security finding F4).

No model imports: migration 0008 signs the events that existed before it with these functions.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from django.conf import settings
from django.utils.crypto import salted_hmac

# Fixed for good: changing it changes the derived key, and every signature made with it would
# stop verifying.
DERIVED_KEY_SALT = "machiplus.consent.ledger-signing-key"


def derived_signing_key() -> str:
    """The key used while LEDGER_SIGNING_KEY is unset: derived from SECRET_KEY, so development
    and demo sites sign with no configuration (check --deploy warns in production: consent.W001).

    An operator moving to an explicit key puts this value in LEDGER_SIGNING_KEY_FALLBACKS, so
    the events signed so far keep verifying.
    """
    return salted_hmac(
        DERIVED_KEY_SALT, "", secret=settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()


def current_signing_key() -> bytes:
    """The key new events are signed with."""
    return (settings.LEDGER_SIGNING_KEY or derived_signing_key()).encode()


def verifying_keys() -> tuple[bytes, ...]:
    """Every key a signature may have been made with: the current key, then the fallbacks
    (keys rotated out, kept so that the events they signed still verify)."""
    fallbacks: Sequence[str] = settings.LEDGER_SIGNING_KEY_FALLBACKS
    return (current_signing_key(), *(key.encode() for key in fallbacks if key))


def event_signature(event_hash: str, *, key: bytes) -> str:
    """The hex HMAC-SHA256 of an event's chain hash, which covers the event's every field and
    the hash of the event before it."""
    return hmac.new(key, event_hash.encode(), hashlib.sha256).hexdigest()


def signature_verifies(event_hash: str, signature: str, *, keys: Sequence[bytes]) -> bool:
    """Whether ``signature`` is ``event_hash``'s under one of ``keys``, compared in constant
    time so that a caller cannot learn a valid signature a character at a time."""
    return any(hmac.compare_digest(event_signature(event_hash, key=key), signature) for key in keys)
