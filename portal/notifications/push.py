"""Web Push subscriptions as a browser posts them (``PushSubscription.toJSON()``): checked before
they are kept, and their endpoints checked again before anything is sent to them.

A subscription names the address the worker will POST to, so it is refused unless that address
is one of the push services of ``NOTIFY_PUSH_SERVICE_HOSTS`` over https (or, with
``NOTIFY_ALLOW_PRIVATE_ADDRESSES`` on, for development and tests, a loopback host over http or
https). Its keys are checked as the encryption of RFC 8291 needs them: ``p256dh`` an
uncompressed P-256 point on the curve, ``auth`` a 16-byte secret, both base64url.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

# The longest endpoint kept (PushSubscription.endpoint's max_length).
MAX_ENDPOINT_LENGTH = 1000
P256DH_BYTES = 65
AUTH_BYTES = 16
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
# Spaces and control characters have no place in an address a worker will call.
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


@dataclass(frozen=True)
class CheckedSubscription:
    """A subscription fit to keep: its keys in unpadded base64url, as browsers give them."""

    endpoint: str
    p256dh: str
    auth: str


def check_push_subscription(data: object) -> CheckedSubscription:
    """``data`` as a browser posts it (``{"endpoint": …, "keys": {"p256dh": …, "auth": …}}``),
    checked; ``ValidationError`` saying what is wrong otherwise."""
    if not isinstance(data, Mapping):
        raise ValidationError(_("A push subscription must be an object."), code="not_object")
    endpoint = data.get("endpoint")
    keys = data.get("keys")
    if not isinstance(endpoint, str) or not endpoint:
        raise ValidationError(_("The push subscription has no endpoint."), code="missing")
    if not isinstance(keys, Mapping):
        raise ValidationError(_("The push subscription has no keys."), code="missing")
    p256dh = keys.get("p256dh")
    auth = keys.get("auth")
    if not isinstance(p256dh, str) or not p256dh:
        raise ValidationError(_("The push subscription has no p256dh key."), code="missing")
    if not isinstance(auth, str) or not auth:
        raise ValidationError(
            _("The push subscription has no authentication secret."), code="missing"
        )
    problem = endpoint_problem(endpoint)
    if problem is not None:
        raise ValidationError(problem, code="endpoint")
    raw_p256dh = _base64url(p256dh)
    if raw_p256dh is None or len(raw_p256dh) != P256DH_BYTES or raw_p256dh[0] != 0x04:
        raise ValidationError(
            _("The push subscription's p256dh key is not an uncompressed P-256 public key."),
            code="p256dh",
        )
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw_p256dh)
    except ValueError:
        raise ValidationError(
            _("The push subscription's p256dh key is not a point on the P-256 curve."),
            code="p256dh",
        ) from None
    raw_auth = _base64url(auth)
    if raw_auth is None or len(raw_auth) != AUTH_BYTES:
        raise ValidationError(
            _("The push subscription's authentication secret is not 16 bytes in base64url."),
            code="auth",
        )
    return CheckedSubscription(endpoint=endpoint, p256dh=p256dh.rstrip("="), auth=auth.rstrip("="))


def endpoint_problem(endpoint: str) -> str | None:
    """Why the worker may not send to ``endpoint``, or None when it may."""
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        return _("The push endpoint is longer than %(limit)s characters.") % {
            "limit": MAX_ENDPOINT_LENGTH
        }
    if _UNSAFE.search(endpoint):
        return _("The push endpoint contains spaces or control characters.")
    if not _URI_CHARACTERS.fullmatch(endpoint):
        # A backslash, say: Python's parser and the one that sends (urllib3) would see two
        # different hosts in it, and the check would pass one while the request went to the other.
        return _("The push endpoint is not a valid address.")
    try:
        parts = urlsplit(endpoint)
        port = parts.port
        sent_to = parse_url(endpoint).host
    except (ValueError, LocationParseError):
        return _("The push endpoint is not a valid address.")
    host = (parts.hostname or "").rstrip(".")
    if (sent_to or "").lower().rstrip(".") != host:
        return _("The push endpoint is not a valid address.")
    if not host or parts.username is not None or parts.password is not None or parts.fragment:
        return _("The push endpoint is not a valid address.")
    private = settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES
    if parts.scheme != "https" and not (private and parts.scheme == "http"):
        return _("The push endpoint must be an https address.")
    if private and _is_loopback(host):
        return None
    if not _allowed_push_service(host):
        return _("%(host)s is not a push service this site sends to.") % {"host": host}
    if port not in (None, 443):
        return _("The push endpoint must use the standard https port.")
    return None


# The characters a URI may hold (RFC 3986: unreserved, reserved and percent-escapes).
_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def _allowed_push_service(host: str) -> bool:
    for entry in settings.NOTIFY_PUSH_SERVICE_HOSTS:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry.startswith("."):
            # A suffix: its subdomains, not the bare domain.
            if host.endswith(entry) and len(host) > len(entry):
                return True
        elif host == entry:
            return True
    return False


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base64url(text: str) -> bytes | None:
    """The bytes of unpadded (or padded) base64url ``text``; None when it is not that."""
    if not _BASE64URL.fullmatch(text):
        return None
    stripped = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError):
        return None
