"""Email through Django's mailer (``EMAIL_URL``): a plain-text part and an HTML one, the
delivery's own Message-ID, and the one-click unsubscribe headers of RFC 8058."""

from __future__ import annotations

import email.message
import email.policy
import smtplib
from collections.abc import Sequence
from email.policy import Policy

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.base import BaseEmailBackend

from portal.notifications.channels import Gone, Outcome, Retry, Sent, described
from portal.notifications.messages import Message
from portal.notifications.models import Delivery


class _LinkHeadersAsTheyAre(email.policy.EmailPolicy):
    """``email.policy.SMTP``, except that the unsubscribe headers are written as they are:
    folded, Python would turn a link longer than a line into RFC 2047 encoded-words, which no
    mail client reads as a link (RFC 5322 allows 998 characters on a line)."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() in _AS_THEY_ARE:
            return f"{name}: {value}{self.linesep}"
        folded: str = super().fold(name, value)
        return folded

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in _AS_THEY_ARE:
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


_AS_THEY_ARE = frozenset({"list-unsubscribe", "list-unsubscribe-post"})
_POLICY = _LinkHeadersAsTheyAre(linesep="\r\n")


class _NotificationEmail(EmailMultiAlternatives):
    def message(
        self, *, policy: Policy[email.message.Message[str, str]] | None = None
    ) -> email.message.EmailMessage:
        return super().message(policy=_POLICY)


class EmailSender:
    def __init__(self) -> None:
        self._backend: BaseEmailBackend | None = None
        # Each resident's confirmed primary address, read for the batch (``prepare``).
        self._addresses: dict[int, str] = {}

    def __enter__(self) -> EmailSender:
        self._backend = mailers.default
        return self

    def __exit__(self, *exc: object) -> None:
        if self._backend is not None:
            self._backend.close()

    def prepare(self, deliveries: Sequence[Delivery]) -> None:
        self._addresses = dict(
            EmailAddress.objects.filter(
                user_id__in={delivery.resident_id for delivery in deliveries},
                primary=True,
                verified=True,
            ).values_list("user_id", "email")
        )

    def send(self, delivery: Delivery, message: Message) -> Outcome:
        address = self._addresses.get(delivery.resident_id) or _address_of(delivery.resident_id)
        if address is None:
            return Gone("no verified email address")
        mail = _NotificationEmail(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            headers={
                "Message-ID": message.message_id,
                "List-Unsubscribe": f"<{message.unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Auto-Submitted": "auto-generated",
            },
        )
        mail.attach_alternative(message.html, "text/html")
        assert self._backend is not None, "use the sender as a context manager"
        try:
            # One connection for the whole batch: opened by the first message, kept open.
            self._backend.open()
            self._backend.send_messages([mail])
        except smtplib.SMTPRecipientsRefused as error:
            # Its text would name the address: the codes say enough.
            codes = sorted({str(code) for code, _text in error.recipients.values()})
            return Gone(f"the mail server refused the address ({', '.join(codes)})")
        except smtplib.SMTPSenderRefused as error:
            return Gone(f"the mail server refused the sender ({error.smtp_code})")
        except (smtplib.SMTPException, OSError) as error:
            # The connection may be broken: the next message opens a new one.
            self._backend.close()
            return Retry(described(error))
        return Sent(message.message_id)


def _address_of(resident_id: int) -> str | None:
    """For a message the batch did not prepare: its resident's address, read now."""
    address: str | None = (
        EmailAddress.objects.filter(user_id=resident_id, primary=True, verified=True)
        .values_list("email", flat=True)
        .first()
    )
    return address
