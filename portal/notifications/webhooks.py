"""A messaging gateway's address, checked, and the signature of what is sent to it.

``check_webhook_url`` refuses what would let a resident make the worker call into the city's own
network (server-side request forgery): plain http, credentials in the address, an IP address
instead of a name, and a name that resolves to any address that is not public. The sender asks
again when it sends (``resolve_public``) and connects to the very address it checked, so that a
name that resolved to a public address when it was saved and to a private one since (DNS
rebinding) reaches nothing. ``NOTIFY_ALLOW_PRIVATE_ADDRESSES`` (development and tests) lets
plain http and private addresses through.

Each request is signed: ``X-Machiplus-Signature: v1=<hex>``, the HMAC-SHA256 with the
endpoint's secret of ``<X-Machiplus-Timestamp>.<body>``. A gateway checks it with ``verify``
(or its own few lines): a body changed on the way, or an old request played again, fails.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import time
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

MAX_URL_LENGTH = 500

TIMESTAMP_HEADER = "X-Machiplus-Timestamp"
SIGNATURE_HEADER = "X-Machiplus-Signature"
DELIVERY_HEADER = "X-Machiplus-Delivery"
SIGNATURE_VERSION = "v1"
# Seconds a gateway accepts a signed request after (or before) its timestamp.
DEFAULT_TOLERANCE = 300

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 prefixes that carry an IPv4 address a gateway would forward to: NAT64's well-known
# prefix (RFC 6052; the local-use 64:ff9b:1::/48 is not global anyway).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def private_addresses_allowed() -> bool:
    return bool(settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES)


# ------------------------------------------------------------------------------------------------
# The address
# ------------------------------------------------------------------------------------------------


def check_webhook_url(url: str) -> str:
    """The gateway's address, as it is to be saved; ``ValidationError`` for one that may not be
    called. Resolves the name (unless private addresses are allowed)."""
    parts = split_webhook_url(url)
    url = parts.geturl()
    host = parts.hostname or ""
    if not private_addresses_allowed():
        if _ip_literal(host) is not None:
            raise ValidationError(
                _("Give the gateway's name, not an IP address."), code="ip_address"
            )
        resolve_public(host, parts.port or 443)
    return url


def split_webhook_url(url: str) -> SplitResult:
    """The checks that need no name server: the address's form, its scheme, no credentials, its
    length, its host. Asked again at each send (an address saved while private addresses were
    allowed is not sent to once they are not)."""
    url = url.strip() if isinstance(url, str) else ""
    if not url:
        raise ValidationError(_("Give the gateway's address."), code="required")
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(
            _("The address is too long (at most %(limit)s characters).")
            % {"limit": MAX_URL_LENGTH},
            code="too_long",
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        raise ValidationError(_("This is not a web address."), code="invalid") from None
    schemes = ["https", "http"] if private_addresses_allowed() else ["https"]
    if not parts.scheme or not parts.netloc:
        raise ValidationError(_("This is not a web address."), code="invalid")
    if parts.scheme.lower() not in schemes:
        raise ValidationError(_("The address must start with https://."), code="scheme")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError(
            _("The address must not hold a user name or password."), code="credentials"
        )
    if not parts.hostname:
        raise ValidationError(_("The address has no host name."), code="no_host")
    try:
        URLValidator(schemes=schemes)(url)
    except ValidationError:
        raise ValidationError(_("This is not a web address."), code="invalid") from None
    return parts


def resolve_public(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to now, each one public (unless private addresses are
    allowed), in the resolver's order; ``ValidationError`` when it does not resolve or when any
    of them is not public (a name with one private address among public ones is refused too:
    which one is used is not ours to choose)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ValidationError(
            _("The gateway's name %(host)s could not be found.") % {"host": host},
            code="unresolved",
        ) from None
    addresses: list[str] = []
    for _family, _type, _proto, _canonical, sockaddr in found:
        text = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 zone ("fe80::1%eth0") is no help
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise ValidationError(
            _("The gateway's name %(host)s could not be found.") % {"host": host},
            code="unresolved",
        )
    if not private_addresses_allowed():
        for text in addresses:
            if not is_public_address(ipaddress.ip_address(text)):
                raise ValidationError(
                    _(
                        "The gateway's name %(host)s leads to an address that is not on the "
                        "public internet."
                    )
                    % {"host": host},
                    code="private_address",
                )
    return addresses


def is_public_address(address: Address) -> bool:
    """Whether ``address`` is on the public internet: not private, loopback, link-local,
    multicast, reserved, unspecified or shared (100.64/10), nor an IPv6 address that carries
    one of those (IPv4-mapped, NAT64, 6to4, Teredo)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(embedded):
            return False
        if address.ipv4_mapped is not None:
            return True
    return (
        address.is_global
        and not address.is_private
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def _ip_literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------------
# The signature
# ------------------------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 with ``secret`` of ``timestamp + "." + body``."""
    signed = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: bytes, *, message_id: str, now: float | None = None
) -> dict[str, str]:
    """The headers of a request carrying ``body``: its timestamp, its signature, and the
    message's id, the same at each try, so that the gateway can tell a message sent again."""
    timestamp = str(int(time.time() if now is None else now))
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: f"{SIGNATURE_VERSION}={sign(secret, timestamp, body)}",
        DELIVERY_HEADER: message_id,
    }


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> bool:
    """Whether ``header`` (``v1=<hex>``, several separated by commas while a secret changes)
    signs ``body`` at ``timestamp`` with ``secret``, and the timestamp is within ``tolerance``
    seconds of now. Compares in constant time."""
    try:
        moment = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - moment) > tolerance:
        return False
    if str(moment) != timestamp:  # " 12", "+12", "012": not what was signed
        return False
    expected = sign(secret, timestamp, body).encode("ascii")
    matched = False
    for part in header.split(","):
        version, _sep, value = part.strip().partition("=")
        if version == SIGNATURE_VERSION:
            # Every candidate is compared: the time taken does not say which one matched.
            matched |= hmac.compare_digest(expected, value.strip().encode("ascii", "replace"))
    return matched
