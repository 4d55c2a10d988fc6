"""Emails a request sends (allauth's codes, links and notices) survive an email server outage.

A request sends at once, so that a login code arrives while the resident waits. If the email
server refuses or does not answer (``EMAIL_URL``'s timeout), the message goes to the worker
through the task outbox instead, which retries with backoff: the resident sees the page as
usual, not an error, and the log says the email waits.
"""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives

from portal.infra.task_outbox import enqueue_on_commit

logger = logging.getLogger(__name__)

SEND_FAILURES = (smtplib.SMTPException, OSError)


def send_now_or_later(message: EmailMessage) -> None:
    try:
        message.send()
    except SEND_FAILURES as error:
        from portal.infra.tasks import send_email

        logger.error(
            "Email server unavailable (%s: %s): %r to %d recipient(s) handed to the worker",
            type(error).__name__,
            error,
            message.subject,
            len(message.recipients()),
        )
        enqueue_on_commit(send_email, message=message_as_data(message))


def message_as_data(message: EmailMessage) -> dict[str, Any]:
    """What the worker needs to send ``message`` again (JSON: it waits in the database)."""
    if message.attachments:
        raise ValueError("Messages with attachments cannot wait in the task outbox")
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [
            [str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])
        ],
    }


def message_from_data(data: dict[str, Any]) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
    )
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    return message
