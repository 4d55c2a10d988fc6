"""The signed token of the one-click unsubscribe link every email carries.

It names the resident and the channel and is signed with SECRET_KEY (Django's signing), so it
works without logging in and cannot be made for anyone else. It does not expire: an email read
a year later still unsubscribes, and all it can do is turn that channel off.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

SALT = "portal.notifications.unsubscribe"


@dataclass(frozen=True)
class Unsubscribe:
    resident_id: int
    channel: str


class BadToken(ValueError):
    """Unknown, tampered or malformed."""


def unsubscribe_token(*, resident_id: int, channel: str) -> str:
    return signing.dumps({"r": resident_id, "c": channel}, salt=SALT, compress=False)


def read_unsubscribe_token(token: str) -> Unsubscribe:
    """What ``token`` unsubscribes; ``BadToken`` for anything not made by this site."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature as error:
        raise BadToken("not a valid unsubscribe link") from error
    if not (
        isinstance(data, dict) and isinstance(data.get("r"), int) and isinstance(data.get("c"), str)
    ):
        raise BadToken("not a valid unsubscribe link")
    return Unsubscribe(resident_id=data["r"], channel=data["c"])
