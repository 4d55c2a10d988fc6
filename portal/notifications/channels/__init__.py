"""The channels a message can go out on. Each sender opens once per batch of deliveries (one
SMTP connection, one HTTP client), sends one message at a time and says what became of it:

- ``Sent``: the channel took it (its id at the channel, if any);
- ``Retry``: it may work later (the server is down, a timeout, a 5xx answer);
- ``Gone``: it will never work on this channel as it is (the address refused, the push
  subscription expired): the next channel is tried at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# An error as a row's last error (rows keep its first 500 characters).
from portal.infra.task_outbox import described as described
from portal.notifications.messages import Message
from portal.notifications.models import Channel, Delivery


@dataclass(frozen=True)
class Sent:
    provider_id: str = ""


@dataclass(frozen=True)
class Retry:
    error: str


@dataclass(frozen=True)
class Gone:
    error: str


Outcome = Sent | Retry | Gone


class Sender(Protocol):
    def __enter__(self) -> Sender: ...

    def prepare(self, deliveries: Sequence[Delivery]) -> None:
        """Read what the batch's messages need at once (their addresses), before sending."""

    def __exit__(self, *exc: object) -> None: ...

    def send(self, delivery: Delivery, message: Message) -> Outcome: ...


def sender_for(channel: str) -> Sender:
    from portal.notifications.channels.email import EmailSender
    from portal.notifications.channels.push import PushSender
    from portal.notifications.channels.webhook import WebhookSender

    senders: dict[str, type[Sender]] = {
        Channel.EMAIL: EmailSender,
        Channel.PUSH: PushSender,
        Channel.WEBHOOK: WebhookSender,
    }
    return senders[channel]()
