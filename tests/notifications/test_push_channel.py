"""The Web Push channel against a real push service on loopback: what it receives (encrypted for
the browser, signed with the site's VAPID key), what its answers make of the delivery and of the
subscriptions, and the checks of a subscription a browser posts."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from py_vapid import Vapid
from pywebpush import webpush

from portal.management.commands.generate_vapid_keys import generate_vapid_keys
from portal.models import User
from portal.notifications.channels import Gone, Retry, Sent
from portal.notifications.channels.push import MAX_PAYLOAD_BYTES, PushSender, payload_of
from portal.notifications.messages import Message
from portal.notifications.models import Delivery, Kind, PushSubscription
from portal.notifications.push import check_push_subscription
from portal.notifications.services import (
    MAX_PUSH_SUBSCRIPTIONS,
    push_subscribe,
    push_unsubscribe,
)
from tests.factories import NoticeFactory, UserFactory

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# A push service on loopback, and a browser's side of a subscription
# ---------------------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    # Names in lower case.
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    port: int = 0
    # The status each path answers; 201 with a Location when not named.
    statuses: dict[str, int] = field(default_factory=dict)
    # Seconds a path takes before it answers.
    delays: dict[str, float] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    def endpoint(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(service: PushService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            service.received.append(Received(self.path, headers, body))
            time.sleep(service.delays.get(self.path, 0.0))
            status = service.statuses.get(self.path, 201)
            self.send_response(status)
            if status == 201:
                self.send_header(
                    "Location", f"{service.endpoint('/messages')}/{len(service.received)}"
                )
            elif 300 <= status < 400:
                self.send_header("Location", service.endpoint("/push/elsewhere"))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Handler


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service))
    httpd.daemon_threads = True
    service.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def vapid_keys(settings: Any) -> tuple[str, str]:
    public, private = generate_vapid_keys()
    settings.VAPID_PUBLIC_KEY = public
    settings.VAPID_PRIVATE_KEY = private
    settings.VAPID_SUBJECT = "mailto:webmaster@example.jp"
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = True
    settings.NOTIFY_HTTP_TIMEOUT = 5.0
    return public, private


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """The browser's side of a subscription: its key pair and its authentication secret."""

    key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @classmethod
    def new(cls) -> Browser:
        return cls(key=ec.generate_private_key(ec.SECP256R1()), auth_secret=os.urandom(16))

    def subscription(self, endpoint: str) -> dict[str, Any]:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": endpoint,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth_secret)},
        }

    def decrypt(self, body: bytes) -> Any:
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return json.loads(plain)


def subscribed(resident: User, endpoint: str, browser: Browser | None = None) -> Browser:
    browser = browser or Browser.new()
    push_subscribe(resident_id=resident.pk, subscription=browser.subscription(endpoint))
    return browser


def delivery_for(resident: User, kind: str = Kind.ALERT) -> Delivery:
    return Delivery.objects.create(
        resident=resident,
        notice=NoticeFactory.create(),
        channel="push",
        kind=kind,
        next_try_at=timezone.now(),
    )


def message_of(delivery: Delivery, *, summary: str = "河川の水位が上昇しています。") -> Message:
    return Message(
        delivery_id=delivery.pk,
        kind=delivery.kind,
        language="ja",
        subject="[警報] 大雨警報",
        summary=summary,
        text=summary,
        html=f"<p>{summary}</p>",
        url=f"https://machiplus.example.jp/notices/{delivery.notice_id}/",
        unsubscribe_url="https://machiplus.example.jp/notifications/unsubscribe/x/",
        message_id=f"<delivery-{delivery.pk}.abc@machiplus.example.jp>",
        notice_id=delivery.notice_id,
        urgency="warning",
        data={"exercise": False, "ending": None},
    )


def send(delivery: Delivery, message: Message | None = None) -> Any:
    with PushSender() as sender:
        return sender.send(delivery, message or message_of(delivery))


# ---------------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------------


def test_the_push_service_receives_the_message_encrypted_for_the_browser(
    vapid_keys: tuple[str, str], push_service: PushService
) -> None:
    resident = UserFactory.create()
    browser = subscribed(resident, push_service.endpoint("/push/a"))
    delivery = delivery_for(resident)
    message = message_of(delivery)

    outcome = send(delivery, message)

    assert outcome == Sent(f"{push_service.endpoint('/messages')}/1")
    [request] = push_service.received
    assert request.headers["content-encoding"] == "aes128gcm"
    assert "大雨警報".encode() not in request.body
    assert browser.decrypt(request.body) == message.as_json()
    assert request.headers["ttl"] == str(24 * 60 * 60)
    assert request.headers["urgency"] == "high"
    assert PushSubscription.objects.get(resident=resident).last_used_at is not None


def test_the_request_carries_a_vapid_authorization_that_verifies_against_the_public_key(
    vapid_keys: tuple[str, str], push_service: PushService
) -> None:
    public, _private = vapid_keys
    resident = UserFactory.create()
    subscribed(resident, push_service.endpoint("/push/a"))

    send(delivery_for(resident))

    [request] = push_service.received
    authorization = request.headers["authorization"]
    scheme, _space, fields = authorization.partition(" ")
    parts = dict(part.split("=", 1) for part in fields.split(","))
    assert scheme == "vapid"
    assert parts["k"] == public
    assert Vapid.verify(authorization) is True
    claims = json.loads(unb64url(parts["t"].split(".")[1]))
    assert claims["aud"] == f"http://127.0.0.1:{push_service.port}"
    assert claims["sub"] == "mailto:webmaster@example.jp"
    assert claims["exp"] <= (timezone.now() + timedelta(hours=24)).timestamp()


@pytest.mark.parametrize("status", [410, 404])
def test_an_expired_subscription_is_removed_and_the_delivery_is_gone(
    vapid_keys: tuple[str, str], push_service: PushService, status: int
) -> None:
    resident = UserFactory.create()
    subscribed(resident, push_service.endpoint("/push/expired"))
    push_service.statuses["/push/expired"] = status

    outcome = send(delivery_for(resident))

    assert isinstance(outcome, Gone)
    assert f"HTTP {status}" in outcome.error
    assert not PushSubscription.objects.filter(resident=resident).exists()


def test_a_push_service_unavailable_gives_retry_and_keeps_the_subscription(
    vapid_keys: tuple[str, str], push_service: PushService
) -> None:
    resident = UserFactory.create()
    subscribed(resident, push_service.endpoint("/push/busy"))
    push_service.statuses["/push/busy"] = 503

    outcome = send(delivery_for(resident))

    assert isinstance(outcome, Retry)
    assert "HTTP 503" in outcome.error
    assert PushSubscription.objects.filter(resident=resident).count() == 1


def test_too_many_requests_gives_retry(
    vapid_keys: tuple[str, str], push_service: PushService
) -> None:
    resident = UserFactory.create()
    subscribed(resident, push_service.endpoint("/push/busy"))
    push_service.statuses["/push/busy"] = 429

    assert isinstance(send(delivery_for(resident)), Retry)


def test_a_push_service_that_cannot_be_reached_gives_retry(vapid_keys: tuple[str, str]) -> None:
    resident = UserFactory.create()
    # A port nothing listens on: the connection is refused.
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    subscribed(resident, f"http://127.0.0.1:{port}/push/a")

    outcome = send(delivery_for(resident))

    assert isinstance(outcome, Retry)
    assert PushSubscription.objects.filter(resident=resident).count() == 1


def test_a_push_service_that_does_not_answer_in_time_gives_retry(
    vapid_keys: tuple[str, str], push_service: PushService, settings: Any
) -> None:
    settings.NOTIFY_HTTP_TIMEOUT = 0.3
    resident = UserFactory.create()
    subscribed(resident, push_service.endpoint("/push/slow"))
    push_service.delays["/push/slow"] = 1.5

    outcome = send(delivery_for(resident))

    assert isinstance(outcome, Retry)
    assert "Timeout" in outcome.error
    assert PushSubscription.objects.filter(resident=resident).count() == 1


def test_a_refusal_other_than_expiry_keeps_the_subscription_and_gives_gone(
    vapid_keys: tuple[str, str], push_service: PushService
) -> None:
    resident = UserFactory.create()
    subscribed(resident, push_service.endpoint("/push/other-key"))
    push_service.statuses["/push/other-key"] = 403

    outcome = send(delivery_for(resident))

    assert isinstance(outcome, Gone)
    assert "HTTP 403" in outcome.error
    assert PushSubscription.objects.filter(resident=resident).count() == 1


def test_one_subscription_gone_and_one_fine_is_sent_and_the_gone_one_removed(
    vapid_keys: tuple[str, str], push_service: PushService
) -> None:
    resident = UserFactory.create()
    subscribed(resident, push_service.endpoint("/push/old-phone"))
    browser = subscribed(resident, push_service.endpoint("/push/laptop"))
    push_service.statuses["/push/old-phone"] = 410
    delivery = delivery_for(resident)
    message = message_of(delivery)

    outcome = send(delivery, message)

    assert isinstance(outcome, Sent)
    assert list(
        PushSubscription.objects.filter(resident=resident).values_list("endpoint", flat=True)
    ) == [push_service.endpoint("/push/laptop")]
    laptop = [r for r in push_service.received if r.path == "/push/laptop"]
    assert browser.decrypt(laptop[0].body) == message.as_json()


def test_without_vapid_keys_push_is_gone_and_nothing_is_sent(
    vapid_keys: tuple[str, str], push_service: PushService, settings: Any
) -> None:
    resident = UserFactory.create()
    subscribed(resident, push_service.endpoint("/push/a"))
    settings.VAPID_PRIVATE_KEY = ""
    settings.VAPID_PUBLIC_KEY = ""

    assert send(delivery_for(resident)) == Gone("push not configured")
    assert push_service.received == []


def test_vapid_keys_that_are_not_a_pair_give_gone(
    vapid_keys: tuple[str, str], push_service: PushService, settings: Any
) -> None:
    resident = UserFactory.create()
    subscribed(resident, push_service.endpoint("/push/a"))
    settings.VAPID_PUBLIC_KEY = generate_vapid_keys()[0]

    outcome = send(delivery_for(resident))

    assert isinstance(outcome, Gone)
    assert "not a pair" in outcome.error
    assert push_service.received == []


def test_a_resident_without_subscriptions_is_gone(vapid_keys: tuple[str, str]) -> None:
    assert send(delivery_for(UserFactory.create())) == Gone("no push subscription")


def test_a_digest_is_sent_with_normal_urgency(
    vapid_keys: tuple[str, str], push_service: PushService
) -> None:
    resident = UserFactory.create()
    subscribed(resident, push_service.endpoint("/push/a"))
    delivery = delivery_for(resident)
    # The sender reads only the kind: a digest row needs no notice of its own for this.
    delivery.kind = Kind.DIGEST

    send(delivery)

    assert push_service.received[0].headers["urgency"] == "normal"


def test_a_long_message_is_shortened_to_fit_a_push_payload(
    vapid_keys: tuple[str, str], push_service: PushService
) -> None:
    resident = UserFactory.create()
    browser = subscribed(resident, push_service.endpoint("/push/a"))
    delivery = delivery_for(resident)
    message = message_of(delivery, summary="避難してください。" * 400)

    assert isinstance(send(delivery, message), Sent)

    assert len(payload_of(message)) <= MAX_PAYLOAD_BYTES
    received = browser.decrypt(push_service.received[0].body)
    assert received["text"].endswith("…")
    assert message.summary.startswith(received["text"][:-1])
    assert received["title"] == message.subject


def test_a_redirect_is_not_followed(vapid_keys: tuple[str, str], push_service: PushService) -> None:
    resident = UserFactory.create()
    subscribed(resident, push_service.endpoint("/push/moved"))
    push_service.statuses["/push/moved"] = 307

    outcome = send(delivery_for(resident))

    assert isinstance(outcome, Gone)
    assert [request.path for request in push_service.received] == ["/push/moved"]


def test_a_stored_endpoint_no_longer_allowed_is_not_called(
    vapid_keys: tuple[str, str], push_service: PushService, settings: Any
) -> None:
    resident = UserFactory.create()
    subscribed(resident, push_service.endpoint("/push/a"))
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = False

    outcome = send(delivery_for(resident))

    assert isinstance(outcome, Gone)
    assert push_service.received == []


# ---------------------------------------------------------------------------------------------
# The key generator
# ---------------------------------------------------------------------------------------------


def test_the_generated_vapid_keys_work_for_sending(
    settings: Any, push_service: PushService
) -> None:
    out = StringIO()
    call_command("generate_vapid_keys", stdout=out)
    lines = dict(line.split("=", 1) for line in out.getvalue().split())
    settings.VAPID_PUBLIC_KEY = lines["VAPID_PUBLIC_KEY"]
    settings.VAPID_PRIVATE_KEY = lines["VAPID_PRIVATE_KEY"]
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = True
    resident = UserFactory.create()
    browser = subscribed(resident, push_service.endpoint("/push/a"))
    delivery = delivery_for(resident)

    assert isinstance(send(delivery), Sent)

    [request] = push_service.received
    assert browser.decrypt(request.body)["id"] == message_of(delivery).message_id
    assert Vapid.verify(request.headers["authorization"]) is True
    assert f"k={lines['VAPID_PUBLIC_KEY']}" in request.headers["authorization"]
    assert len(unb64url(lines["VAPID_PUBLIC_KEY"])) == 65
    assert len(unb64url(lines["VAPID_PRIVATE_KEY"])) == 32


def test_the_generated_private_key_is_the_form_pywebpush_webpush_takes(
    push_service: PushService,
) -> None:
    public, private = generate_vapid_keys()
    browser = Browser.new()

    webpush(
        subscription_info=browser.subscription(push_service.endpoint("/push/a")),
        data='{"hello": "world"}',
        vapid_private_key=private,
        vapid_claims={"sub": "mailto:webmaster@example.jp"},
        timeout=5,
    )

    [request] = push_service.received
    assert browser.decrypt(request.body) == {"hello": "world"}
    assert f"k={public}" in request.headers["authorization"]
    assert Vapid.verify(request.headers["authorization"]) is True


# ---------------------------------------------------------------------------------------------
# Subscriptions a browser posts
# ---------------------------------------------------------------------------------------------

FCM = "https://fcm.googleapis.com/fcm/send/abc123"


def good(endpoint: str = FCM) -> dict[str, Any]:
    return Browser.new().subscription(endpoint)


def with_keys(**keys: Any) -> dict[str, Any]:
    subscription = good()
    subscription["keys"].update(keys)
    return subscription


OFF_CURVE = b64url(b"\x04" + (1).to_bytes(32, "big") + (1).to_bytes(32, "big"))
COMPRESSED = b64url(b"\x02" + bytes(32))

BAD_SHAPES = {
    "not an object": ["endpoint", FCM],
    "no endpoint": {"keys": good()["keys"]},
    "endpoint not a string": {**good(), "endpoint": 42},
    "no keys": {"endpoint": FCM},
    "no p256dh": {"endpoint": FCM, "keys": {"auth": good()["keys"]["auth"]}},
    "no auth": {"endpoint": FCM, "keys": {"p256dh": good()["keys"]["p256dh"]}},
    "plain http": good("http://fcm.googleapis.com/fcm/send/abc"),
    "endpoint too long": good(FCM + "x" * 1000),
    "credentials in endpoint": good("https://user:pw@fcm.googleapis.com/fcm/send/abc"),
    "other port": good("https://fcm.googleapis.com:8443/fcm/send/abc"),
    "p256dh not base64url": with_keys(p256dh="not base64!"),
    "p256dh compressed": with_keys(p256dh=COMPRESSED),
    "p256dh too short": with_keys(p256dh=b64url(b"\x04" + bytes(40))),
    "p256dh off the curve": with_keys(p256dh=OFF_CURVE),
    "auth too short": with_keys(auth=b64url(bytes(8))),
    "auth not base64url": with_keys(auth="$$$$"),
}


@pytest.mark.parametrize("data", BAD_SHAPES.values(), ids=BAD_SHAPES.keys())
def test_a_bad_subscription_is_refused(settings: Any, data: object) -> None:
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError):
        check_push_subscription(data)


def test_a_subscription_from_an_allowed_push_service_is_accepted(settings: Any) -> None:
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = False
    subscription = good("https://web.push.apple.com/QGuQyavXutnMH")

    checked = check_push_subscription(subscription)

    assert checked.endpoint == subscription["endpoint"]
    assert checked.p256dh == subscription["keys"]["p256dh"]


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://push.example.net/send/abc",
        "https://127.0.0.1/push/a",
        "https://fcm.googleapis.com.example.net/fcm/send/abc",
        # A suffix entry (".push.apple.com") names subdomains, not the domain itself.
        "https://push.apple.com/abc",
    ],
)
def test_a_host_not_allowlisted_is_refused_when_private_addresses_are_not_allowed(
    settings: Any, endpoint: str
) -> None:
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError, match="not a push service"):
        check_push_subscription(good(endpoint))


def test_a_loopback_endpoint_is_accepted_when_private_addresses_are_allowed(settings: Any) -> None:
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = True
    assert check_push_subscription(good("http://127.0.0.1:8000/push/a")).endpoint.startswith(
        "http:"
    )


def test_a_private_non_loopback_host_is_refused_even_when_private_addresses_are_allowed(
    settings: Any,
) -> None:
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = True
    with pytest.raises(ValidationError, match="not a push service"):
        check_push_subscription(good("http://192.168.1.10/push/a"))


def test_subscribing_the_same_endpoint_twice_keeps_one_row_with_the_new_keys() -> None:
    resident = UserFactory.create()
    push_subscribe(resident_id=resident.pk, subscription=good())
    again = good()

    row = push_subscribe(resident_id=resident.pk, subscription=again)

    assert PushSubscription.objects.filter(endpoint=FCM).count() == 1
    assert row.p256dh == again["keys"]["p256dh"]
    assert PushSubscription.objects.get(endpoint=FCM).auth == again["keys"]["auth"]


def test_an_endpoint_another_resident_subscribed_moves_to_the_last_one() -> None:
    first, second = UserFactory.create(), UserFactory.create()
    push_subscribe(resident_id=first.pk, subscription=good())

    push_subscribe(resident_id=second.pk, subscription=good())

    assert list(PushSubscription.objects.values_list("resident_id", flat=True)) == [second.pk]


def test_an_eleventh_subscription_is_refused() -> None:
    resident = UserFactory.create()
    for n in range(MAX_PUSH_SUBSCRIPTIONS):
        push_subscribe(resident_id=resident.pk, subscription=good(f"{FCM}/{n}"))

    with pytest.raises(ValidationError, match="already on in 10"):
        push_subscribe(resident_id=resident.pk, subscription=good(f"{FCM}/new"))
    # The ones they have can still renew their keys.
    push_subscribe(resident_id=resident.pk, subscription=good(f"{FCM}/0"))
    assert PushSubscription.objects.filter(resident=resident).count() == MAX_PUSH_SUBSCRIPTIONS


def test_a_bad_subscription_is_not_saved() -> None:
    resident = UserFactory.create()
    with pytest.raises(ValidationError):
        push_subscribe(resident_id=resident.pk, subscription=with_keys(auth="short"))
    assert not PushSubscription.objects.exists()


def test_unsubscribing_removes_only_the_residents_own_subscription() -> None:
    resident, other = UserFactory.create(), UserFactory.create()
    push_subscribe(resident_id=resident.pk, subscription=good())

    assert push_unsubscribe(resident_id=other.pk, endpoint=FCM) is False
    assert push_unsubscribe(resident_id=resident.pk, endpoint=FCM) is True
    assert push_unsubscribe(resident_id=resident.pk, endpoint=FCM) is False
    assert not PushSubscription.objects.exists()
