"""The messaging gateway channel: a real gateway on loopback takes the signed JSON; the sender
retries what may work later, gives up on what never will, never follows a redirect, and never
calls an address that is not public (checked when saved and again when sent)."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError

from portal.models import User
from portal.notifications.channels import Gone, Outcome, Retry, Sent
from portal.notifications.channels.webhook import WebhookSender
from portal.notifications.messages import Message
from portal.notifications.models import Channel, Delivery, Kind, WebhookEndpoint
from portal.notifications.services import webhook_new_secret, webhook_remove, webhook_set
from portal.notifications.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    check_webhook_url,
    sign,
    verify,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PUBLIC_ADDRESS = "93.184.216.34"
MESSAGE_ID = "<delivery-7.0123456789ab@machiplus.localhost>"


# ------------------------------------------------------------------------------------------------
# A gateway on loopback
# ------------------------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Gateway:
    port: int = 0
    status: int = 200
    delay: float = 0.0
    answer: bytes = b""
    answer_headers: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    connections: int = 0

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            gateway.connections += 1
            super().setup()

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            gateway.received.append(Received(self.path, dict(self.headers.items()), body))
            if gateway.delay:
                time.sleep(gateway.delay)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(gateway.status)
                for name, value in gateway.answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(gateway.answer)))
                self.end_headers()
                self.wfile.write(gateway.answer)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Handler


@contextmanager
def running_gateway(tls: ssl.SSLContext | None = None) -> Iterator[Gateway]:
    gateway = Gateway()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gateway))
    httpd.daemon_threads = True
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    gateway.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running_gateway() as running:
        yield running


@pytest.fixture
def private_allowed(settings: Any) -> None:
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def private_refused(settings: Any) -> None:
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = False


@pytest.fixture
def resident() -> User:
    return UserFactory.create()


# ------------------------------------------------------------------------------------------------
# A name server of the test's own
# ------------------------------------------------------------------------------------------------


class NameServer:
    """``socket.getaddrinfo`` for the names a test gives; IP addresses and other names as the
    real one answers."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.names: dict[str, list[str]] = {}
        self.asked: list[str] = []

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in self.names:
            return self.real(host, port, *args, **kwargs)
        self.asked.append(name)
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (address, int(port or 0)),
            )
            for address in self.names[name]
        ]


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> NameServer:
    server = NameServer(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", server)
    return server


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def message() -> Message:
    return Message(
        delivery_id=7,
        kind=Kind.ALERT,
        language="en",
        subject="[Emergency] Evacuate: Yugawa river",
        summary="Leave for the nearest shelter now.",
        text="Leave for the nearest shelter now.",
        html="<p>Leave for the nearest shelter now.</p>",
        url="https://machiplus.localhost/notices/3/",
        unsubscribe_url="https://machiplus.localhost/u/x/",
        message_id=MESSAGE_ID,
        notice_id=3,
        urgency="emergency",
        data={"exercise": False, "ending": None},
    )


def send(resident: User) -> Outcome:
    delivery = Delivery(resident=resident, channel=Channel.WEBHOOK, kind=Kind.ALERT)
    with WebhookSender() as sender:
        return sender.send(delivery, message())


def endpoint_at(resident: User, url: str) -> WebhookEndpoint:
    endpoint, _secret = webhook_set(resident_id=resident.pk, url=url)
    return endpoint


# ------------------------------------------------------------------------------------------------
# Sending
# ------------------------------------------------------------------------------------------------


def test_gateway_receives_the_json_signed_with_the_endpoint_secret(
    private_allowed: None, gateway: Gateway, resident: User
) -> None:
    endpoint = endpoint_at(resident, gateway.url())

    assert isinstance(send(resident), Sent)

    [request] = gateway.received
    assert request.path == "/hook"
    assert json.loads(request.body) == message().as_json()
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers[DELIVERY_HEADER] == MESSAGE_ID
    assert verify(
        endpoint.secret,
        request.headers[TIMESTAMP_HEADER],
        request.body,
        request.headers[SIGNATURE_HEADER],
    )


def test_a_tampered_body_fails_verification(
    private_allowed: None, gateway: Gateway, resident: User
) -> None:
    endpoint = endpoint_at(resident, gateway.url())
    send(resident)
    [request] = gateway.received

    tampered = request.body.replace(b"Evacuate", b"Stay home")

    assert tampered != request.body
    assert not verify(
        endpoint.secret,
        request.headers[TIMESTAMP_HEADER],
        tampered,
        request.headers[SIGNATURE_HEADER],
    )


def test_a_signature_older_than_the_tolerance_fails_verification() -> None:
    signature = f"v1={sign('secret', '1000', b'{}')}"

    assert verify("secret", "1000", b"{}", signature, now=1000 + 300)
    assert not verify("secret", "1000", b"{}", signature, now=1000 + 301)
    assert not verify("another secret", "1000", b"{}", signature, now=1000)


def test_the_request_goes_to_the_address_checked_with_the_name_as_host(
    private_allowed: None, gateway: Gateway, resident: User, names: NameServer
) -> None:
    # A name no real name server knows: only the address the sender resolved can be reached.
    names.names["gateway.test"] = ["127.0.0.1"]
    endpoint_at(resident, gateway.url(host="gateway.test"))

    assert isinstance(send(resident), Sent)

    [request] = gateway.received
    assert request.headers["Host"] == f"gateway.test:{gateway.port}"


def test_a_2xx_answer_records_the_delivery_on_the_endpoint(
    private_allowed: None, gateway: Gateway, resident: User
) -> None:
    gateway.status = 202
    gateway.answer = b'{"id": "line-msg-42"}'
    gateway.answer_headers = {"Content-Type": "application/json"}
    endpoint = endpoint_at(resident, gateway.url())
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(last_error="the gateway answered 500")

    outcome = send(resident)

    assert outcome == Sent("line-msg-42")
    endpoint.refresh_from_db()
    assert endpoint.last_delivered_at is not None
    assert endpoint.last_error == ""


def test_the_gateway_message_id_header_is_the_provider_id(
    private_allowed: None, gateway: Gateway, resident: User
) -> None:
    gateway.answer_headers = {"X-Message-Id": "abc-1"}
    endpoint_at(resident, gateway.url())

    assert send(resident) == Sent("abc-1")


def test_a_500_answer_is_retried(private_allowed: None, gateway: Gateway, resident: User) -> None:
    gateway.status = 500
    endpoint = endpoint_at(resident, gateway.url())

    outcome = send(resident)

    assert isinstance(outcome, Retry)
    endpoint.refresh_from_db()
    assert endpoint.last_error == "the gateway answered 500"
    assert endpoint.last_delivered_at is None


@pytest.mark.parametrize("status", [408, 429, 503])
def test_answers_that_ask_to_come_back_later_are_retried(
    private_allowed: None, gateway: Gateway, resident: User, status: int
) -> None:
    gateway.status = status
    endpoint_at(resident, gateway.url())

    assert isinstance(send(resident), Retry)


def test_a_gateway_slower_than_the_timeout_is_retried(
    private_allowed: None, gateway: Gateway, resident: User, settings: Any
) -> None:
    settings.NOTIFY_HTTP_TIMEOUT = 0.2
    gateway.delay = 2.0
    endpoint_at(resident, gateway.url())

    started = time.monotonic()
    outcome = send(resident)

    assert isinstance(outcome, Retry)
    assert "took longer than 0.2 s" in outcome.error
    assert time.monotonic() - started < 1.5  # it did not wait for the answer


def test_a_gateway_that_does_not_listen_is_retried(
    private_allowed: None, gateway: Gateway, resident: User
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    endpoint_at(resident, f"http://127.0.0.1:{port}/hook")

    assert isinstance(send(resident), Retry)


def test_a_400_answer_is_gone(private_allowed: None, gateway: Gateway, resident: User) -> None:
    gateway.status = 400
    endpoint = endpoint_at(resident, gateway.url())

    outcome = send(resident)

    assert isinstance(outcome, Gone)
    endpoint.refresh_from_db()
    assert "400" in endpoint.last_error


def test_a_redirect_is_not_followed_and_is_gone(
    private_allowed: None, gateway: Gateway, resident: User
) -> None:
    with running_gateway() as elsewhere:
        gateway.status = 302
        gateway.answer_headers = {"Location": elsewhere.url(host="localhost")}
        endpoint_at(resident, gateway.url())

        outcome = send(resident)

        assert isinstance(outcome, Gone)
        assert "redirect" in outcome.error
        assert len(gateway.received) == 1
        assert elsewhere.received == []
        assert elsewhere.connections == 0


def test_a_resident_without_a_gateway_is_gone(resident: User) -> None:
    assert send(resident) == Gone("no messaging gateway address")


def test_an_address_saved_while_private_ones_were_allowed_is_gone_once_they_are_not(
    gateway: Gateway, resident: User, settings: Any
) -> None:
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = True
    endpoint_at(resident, gateway.url())
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = False

    assert isinstance(send(resident), Gone)
    assert gateway.connections == 0


def test_a_name_that_resolves_privately_at_send_time_is_gone_without_a_request(
    private_refused: None, gateway: Gateway, resident: User, names: NameServer
) -> None:
    names.names["gateway.example"] = [PUBLIC_ADDRESS]
    endpoint = endpoint_at(resident, f"https://gateway.example:{gateway.port}/hook")
    names.names["gateway.example"] = ["127.0.0.1"]  # rebound since

    outcome = send(resident)

    assert isinstance(outcome, Gone)
    assert "public" in outcome.error
    assert gateway.connections == 0
    endpoint.refresh_from_db()
    assert endpoint.last_error == outcome.error


def test_a_name_with_one_private_address_among_public_ones_is_gone(
    private_refused: None, gateway: Gateway, resident: User, names: NameServer
) -> None:
    names.names["gateway.example"] = [PUBLIC_ADDRESS]
    endpoint_at(resident, f"https://gateway.example:{gateway.port}/hook")
    names.names["gateway.example"] = [PUBLIC_ADDRESS, "127.0.0.1"]

    assert isinstance(send(resident), Gone)
    assert gateway.connections == 0


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        )
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False
        )
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), False)
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),  # type: ignore[arg-type]
            False,
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture
def tls_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A certificate authority the sender trusts (SSL_CERT_FILE), and a server's TLS for a
    certificate it signed for a name."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Machiplus test CA", ca_key)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))

    def tls(name: str) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = _certificate(name, key, issuer=ca, issuer_key=ca_key)
        (tmp_path / f"{name}.pem").write_bytes(
            certificate.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tmp_path / f"{name}.pem")
        return context

    return tls


def test_tls_to_the_checked_address_verifies_the_certificate_against_the_name(
    private_allowed: None, resident: User, names: NameServer, tls_for: Any
) -> None:
    names.names["gateway.test"] = ["127.0.0.1"]
    with running_gateway(tls=tls_for("gateway.test")) as gateway:
        endpoint_at(resident, f"https://gateway.test:{gateway.port}/hook")

        assert isinstance(send(resident), Sent)
        assert gateway.received[0].headers["Host"] == f"gateway.test:{gateway.port}"


def test_a_certificate_for_another_name_is_refused(
    private_allowed: None, resident: User, names: NameServer, tls_for: Any
) -> None:
    names.names["gateway.test"] = ["127.0.0.1"]
    with running_gateway(tls=tls_for("other.test")) as gateway:
        endpoint_at(resident, f"https://gateway.test:{gateway.port}/hook")

        outcome = send(resident)

        assert isinstance(outcome, Retry)
        assert "CERTIFICATE_VERIFY_FAILED" in outcome.error
        assert gateway.received == []


# ------------------------------------------------------------------------------------------------
# The address, when saved
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://gateway.example/hook", "scheme"),
        ("ftp://gateway.example/hook", "scheme"),
        ("https://127.0.0.1/x", "ip_address"),
        ("https://10.0.0.1/", "ip_address"),
        ("https://[::1]/", "ip_address"),
        ("https://169.254.169.254/latest", "ip_address"),
        ("https://localhost/", "private_address"),
        ("https://inside.example/hook", "private_address"),
        ("https://shared.example/hook", "private_address"),
        ("https://mapped.example/hook", "private_address"),
        ("https://nowhere.invalid/hook", "unresolved"),
        ("https://user:password@gateway.example/hook", "credentials"),
        ("https://gateway.example/" + "x" * 500, "too_long"),
        ("gateway.example/hook", "invalid"),
        ("https:///hook", "invalid"),
        ("https://gateway.example:99999/", "invalid"),
        ("", "required"),
    ],
)
def test_addresses_that_may_not_be_called_are_refused(
    private_refused: None, names: NameServer, url: str, code: str
) -> None:
    names.names.update(
        {
            "gateway.example": [PUBLIC_ADDRESS],
            "localhost": ["127.0.0.1", "::1"],
            "inside.example": ["127.0.0.1"],
            "shared.example": ["100.64.0.1"],
            "mapped.example": ["::ffff:10.0.0.1"],
        }
    )

    with pytest.raises(ValidationError) as refused:
        check_webhook_url(url)

    assert refused.value.code == code


def test_a_public_name_over_https_is_accepted(private_refused: None, names: NameServer) -> None:
    names.names["gateway.example"] = [PUBLIC_ADDRESS]

    assert check_webhook_url("https://gateway.example/hook") == "https://gateway.example/hook"


def test_plain_http_and_loopback_are_accepted_while_private_addresses_are_allowed(
    private_allowed: None,
) -> None:
    assert check_webhook_url("http://127.0.0.1:8000/hook") == "http://127.0.0.1:8000/hook"


# ------------------------------------------------------------------------------------------------
# The services
# ------------------------------------------------------------------------------------------------


def test_webhook_set_returns_the_secret_once_and_keeps_it_when_the_address_changes(
    private_allowed: None, resident: User
) -> None:
    endpoint, secret = webhook_set(resident_id=resident.pk, url="http://127.0.0.1:9/a")

    moved, again = webhook_set(resident_id=resident.pk, url="http://127.0.0.1:9/b")

    assert secret is not None and len(secret) >= 43
    assert again is None
    assert moved.pk == endpoint.pk
    assert moved.url == "http://127.0.0.1:9/b"
    assert WebhookEndpoint.objects.get(resident=resident).secret == secret


def test_webhook_set_saves_nothing_for_a_refused_address(
    private_refused: None, resident: User
) -> None:
    with pytest.raises(ValidationError) as refused:
        webhook_set(resident_id=resident.pk, url="https://127.0.0.1/hook")

    assert "url" in refused.value.message_dict
    assert not WebhookEndpoint.objects.filter(resident=resident).exists()


def test_webhook_new_secret_replaces_the_secret(private_allowed: None, resident: User) -> None:
    _endpoint, secret = webhook_set(resident_id=resident.pk, url="http://127.0.0.1:9/a")

    renewed = webhook_new_secret(resident_id=resident.pk)

    assert renewed != secret
    assert WebhookEndpoint.objects.get(resident=resident).secret == renewed


def test_webhook_remove_forgets_the_gateway(private_allowed: None, resident: User) -> None:
    webhook_set(resident_id=resident.pk, url="http://127.0.0.1:9/a")

    assert webhook_remove(resident_id=resident.pk) is True
    assert webhook_remove(resident_id=resident.pk) is False
    assert not WebhookEndpoint.objects.filter(resident=resident).exists()
