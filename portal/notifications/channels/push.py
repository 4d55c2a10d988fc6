"""Web Push (RFC 8030), the payload encrypted for each browser (RFC 8291, aes128gcm) and signed
for the push service with the site's VAPID key (RFC 8292).

A delivery goes to every subscription of its resident (each browser or phone they turned
notifications on in). What the push services answer decides the outcome:

- 201 (any 2xx) from at least one: ``Sent``; its ``Location`` (the push service's address of the
  message) is the provider id, else the endpoint's host;
- 404 or 410: that subscription has expired or was withdrawn by the browser and is removed;
- 429, 5xx, a timeout or a broken connection: it may work later (``Retry``, unless another
  subscription took the message: it is not sent twice to the ones that did);
- any other answer (400, 403 for a subscription made with another VAPID key, 413 …): that
  subscription refuses this message; it is kept, and the answer is reported.

With no subscription left and none that took the message or may take it later: ``Gone``, and the
resident's next channel is tried.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.utils import timezone
from py_vapid import Vapid, VapidException
from pywebpush import WebPusher, WebPushException

from portal.notifications.channels import Gone, Outcome, Retry, Sent, described
from portal.notifications.messages import Message
from portal.notifications.models import WARNING_KINDS, Delivery, PushSubscription
from portal.notifications.push import endpoint_problem

logger = logging.getLogger(__name__)

# How long a push service keeps a message for a device that is offline: a warning a day later
# is still worth seeing (its page says whether it is still in force); a digest a little longer.
WARNING_TTL = 24 * 60 * 60
OTHER_TTL = 3 * 24 * 60 * 60
# The payload before encryption. Push services take 4,096 bytes of encrypted record (RFC 8030
# 7.2); aes128gcm adds 103 bytes of its own. Kept well under that: the text is shortened first.
MAX_PAYLOAD_BYTES = 3000
# How long a VAPID token is valid (RFC 8292 allows at most 24 hours).
VAPID_TOKEN_SECONDS = 12 * 60 * 60
EXPIRED = (404, 410)


def payload_of(message: Message, limit: int = MAX_PAYLOAD_BYTES) -> bytes:
    """``message.as_json()`` as UTF-8 JSON of at most ``limit`` bytes: the text shortened (and
    then the title) when it is longer."""
    body = message.as_json()
    encoded = _encode(body)
    for field in ("text", "title"):
        if len(encoded) <= limit:
            return encoded
        body[field] = _shortened(body, field, limit)
        encoded = _encode(body)
    if len(encoded) <= limit:
        return encoded
    # Only what opens the notice (data the message carries made it too long).
    return _encode({key: body.get(key) for key in ("id", "kind", "url", "notice_id")})


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _shortened(body: dict[str, Any], field: str, limit: int) -> str:
    """The longest start of ``body[field]`` (with an ellipsis) that keeps the body in ``limit``."""
    text = str(body.get(field) or "")
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if len(_encode({**body, field: text[:middle] + "…"})) <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low] + "…" if low else ""


class _NoRedirects(requests.Session):
    """A push service answers; it does not send the worker elsewhere (a redirect is reported
    as that subscription's refusal, never followed)."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


@dataclass(frozen=True)
class _Answer:
    took: bool = False
    expired: bool = False
    later: bool = False
    provider_id: str = ""
    error: str = ""


class PushSender:
    def __init__(self) -> None:
        self._vapid: Any = None
        self._problem = ""
        self._session: Any = None

    def __enter__(self) -> PushSender:
        self._vapid, self._problem = vapid_key()
        if self._vapid is not None:
            self._session = _NoRedirects()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def prepare(self, deliveries: Sequence[Delivery]) -> None:
        """Each message reads its own subscriptions or gateway as it is sent (they change)."""

    def send(self, delivery: Delivery, message: Message) -> Outcome:
        if self._vapid is None:
            return Gone(self._problem or "use the sender as a context manager")
        subscriptions = list(PushSubscription.objects.filter(resident_id=delivery.resident_id))
        if not subscriptions:
            return Gone("no push subscription")
        payload = payload_of(message)
        warning = delivery.kind in WARNING_KINDS
        headers = {"Urgency": "high" if warning else "normal"}
        ttl = WARNING_TTL if warning else OTHER_TTL
        answers = [
            (subscription, self._push(subscription, payload, headers=headers, ttl=ttl))
            for subscription in subscriptions
        ]
        expired = [subscription.pk for subscription, answer in answers if answer.expired]
        if expired:
            PushSubscription.objects.filter(pk__in=expired).delete()
        took = [(subscription, answer) for subscription, answer in answers if answer.took]
        if took:
            PushSubscription.objects.filter(pk__in=[s.pk for s, _answer in took]).update(
                last_used_at=timezone.now()
            )
            return Sent(took[0][1].provider_id[:300])
        error = "; ".join(answer.error for _subscription, answer in answers)[:480]
        if any(answer.later for _subscription, answer in answers):
            return Retry(error)
        return Gone(error)

    def _push(
        self, subscription: PushSubscription, payload: bytes, *, headers: dict[str, str], ttl: int
    ) -> _Answer:
        endpoint = subscription.endpoint
        host = urlsplit(endpoint).hostname or ""
        problem = endpoint_problem(endpoint)
        if problem is not None:
            return _Answer(error=f"{host}: {problem}")
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(endpoint))
        try:
            signed = self._vapid.sign(
                {
                    "sub": settings.VAPID_SUBJECT,
                    "aud": origin,
                    "exp": int(time.time()) + VAPID_TOKEN_SECONDS,
                }
            )
            pusher = WebPusher(
                {
                    "endpoint": endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                requests_session=self._session,
            )
            response = pusher.send(
                payload,
                {**headers, **signed},
                ttl=ttl,
                content_encoding="aes128gcm",
                timeout=settings.NOTIFY_HTTP_TIMEOUT,
            )
        except (requests.RequestException, OSError) as error:
            # A timeout, a refused or broken connection, a name that does not resolve. Only the
            # kind of error is kept: its text names the endpoint, which is the browser's secret.
            return _Answer(later=True, error=f"{host}: {type(error).__name__}")
        except (WebPushException, VapidException, ValueError, TypeError) as error:
            # Keys the encryption cannot use, or a VAPID subject the signature refuses.
            logger.warning("Push subscription #%s: %s", subscription.pk, described(error))
            return _Answer(error=f"{host}: {described(error)}")
        status = response.status_code
        if 200 <= status < 300:
            location = response.headers.get("Location") or ""
            return _Answer(took=True, provider_id=location or host)
        answered = f"{host}: HTTP {status}"
        if status in EXPIRED:
            return _Answer(expired=True, error=f"{answered} (subscription expired, removed)")
        if status == 429 or status >= 500:
            return _Answer(later=True, error=answered)
        return _Answer(error=answered)


def vapid_key() -> tuple[Any, str]:
    """The site's VAPID key, or None and why it cannot be used."""
    private = settings.VAPID_PRIVATE_KEY
    public = settings.VAPID_PUBLIC_KEY
    if not private or not public:
        return None, "push not configured"
    try:
        key = Vapid.from_string(private_key=private)
        derived = key.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    except Exception as error:  # whatever py_vapid raises for a key it cannot read
        logger.error("VAPID_PRIVATE_KEY cannot be read: %s", type(error).__name__)
        return None, "push not configured: VAPID_PRIVATE_KEY cannot be read"
    if _unpadded(derived) != public.strip().rstrip("="):
        # Browsers subscribed with VAPID_PUBLIC_KEY: every push service would refuse (403).
        logger.error("VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY")
        return None, "push not configured: the VAPID keys are not a pair"
    return key, ""


def _unpadded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
