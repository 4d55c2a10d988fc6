"""A real SMTP server on loopback (aiosmtpd) that keeps every message it is given: the site sends
its mail to it over SMTP, as it would to the city's mail server."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    """Collects every message delivered to the SMTP sink."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        # The bytes as they came, for what a parser would smooth over (encoded-words).
        self.raw: list[bytes] = []
        # Recipients the server refuses (550), as a real server refuses an unknown mailbox.
        self.refused: set[str] = set()

    async def handle_RCPT(  # noqa: N802
        self, server: object, session: object, envelope: Any, address: str, options: object
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        self.raw.append(envelope.original_content)
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in (m["To"] or "")]

    def bodies_to(self, address: str) -> list[str]:
        return [text_of(m) for m in self.to(address)]


def text_of(message: Message) -> str:
    """The plain-text part."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    return ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_settings(port: int) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }


@pytest.fixture
def smtp_server() -> Iterator[Controller]:
    """A real SMTP server on loopback; its ``handler`` is the Mailbox (for other processes:
    point their EMAIL_URL at its port)."""
    controller = Controller(Mailbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def smtp_mailbox(settings: Any, smtp_server: Controller) -> Mailbox:
    """The site sends its mail over SMTP to a real server on loopback, which keeps it here."""
    settings.MAILERS = smtp_settings(smtp_server.port)
    mailbox: Mailbox = smtp_server.handler
    return mailbox


def message_ids(mailbox: Mailbox) -> Counter[str]:
    """How often each Message-ID arrived."""
    return Counter(str(message["Message-ID"]) for message in mailbox.messages)
