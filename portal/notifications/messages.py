"""What a delivery says, in the resident's language: one ``Message`` that every channel
renders its own way (an email with a plain-text part, a push notification, a gateway's JSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.notices.models import Notice
from portal.notices.rendering import render_markdown
from portal.notifications.fanout import Ending
from portal.notifications.models import Delivery, Kind
from portal.notifications.tokens import unsubscribe_token

LANGUAGES = ("ja", "en")


@dataclass(frozen=True)
class Message:
    delivery_id: int
    kind: str
    language: str
    subject: str
    # A push notification's or a chat message's text: the heading and the first lines.
    summary: str
    text: str
    html: str
    url: str
    unsubscribe_url: str
    message_id: str
    notice_id: int | None = None
    urgency: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """What the push payload and the webhook body carry."""
        return {
            "id": self.message_id,
            "kind": self.kind,
            "language": self.language,
            "title": self.subject,
            "text": self.summary,
            "url": self.url,
            "notice_id": self.notice_id,
            "urgency": self.urgency,
            **self.data,
        }


def message_id_for(delivery_id: int) -> str:
    """The delivery's own Message-ID, the same however often it is sent: a message sent again
    after its worker died is known by its receiver as the same message."""
    tag = salted_hmac(
        "portal.notifications.message_id", str(delivery_id), algorithm="sha256"
    ).hexdigest()[:12]
    return f"<delivery-{delivery_id}.{tag}@{_mail_domain()}>"


def compose_warning(
    delivery: Delivery, notice: Notice, *, language: str, ending: str = ""
) -> Message:
    """An alert, update or cancellation of ``notice``."""
    language = language if language in LANGUAGES else settings.LANGUAGE_CODE
    parts = _warning_parts(
        notice.pk, notice.updated_at, delivery.kind, language, ending, settings.SITE_URL
    )
    unsubscribe_url = _unsubscribe_url(delivery)
    return Message(
        delivery_id=delivery.pk,
        kind=delivery.kind,
        language=language,
        subject=parts.subject,
        summary=parts.summary,
        text=parts.text.replace(_UNSUBSCRIBE, unsubscribe_url),
        html=parts.html.replace(_UNSUBSCRIBE, unsubscribe_url),
        url=parts.url,
        unsubscribe_url=unsubscribe_url,
        message_id=message_id_for(delivery.pk),
        notice_id=notice.pk,
        urgency=notice.urgency,
        data={"exercise": notice.is_exercise, "ending": ending or None, "areas": parts.areas},
    )


# Where each message's own unsubscribe link goes in the parts every message of a warning shares.
_UNSUBSCRIBE = "urn:machiplus:unsubscribe-link"


@dataclass(frozen=True)
class _Parts:
    subject: str
    summary: str
    text: str
    html: str
    url: str
    areas: list[str]


@lru_cache(maxsize=64)
def _warning_parts(
    notice_id: int, version: datetime, kind: str, language: str, ending: str, site_url: str
) -> _Parts:
    """What every message of one warning, kind and language says, rendered once per worker
    process (a warning for a city is tens of thousands of the same message): keyed by the
    notice's last change, so that an edit is never sent in its old words."""
    notice = Notice.objects.get(pk=notice_id)
    with translation.override(language):
        heading = _heading(kind, notice, ending)
        title = notice.title
        ended = _ended_text(kind, ending)
        areas = [area.name for area in notice.areas.all()]
        url = _absolute(reverse("notices:detail", args=[notice.pk]))
        context = {
            "heading": heading,
            "notice": notice,
            "title": title,
            "body": notice.body,
            # Sanitised as on the notice's page (portal/notices/rendering.py).
            "body_html": render_markdown(notice.body),
            "areas": areas,
            "url": url,
            "kind": kind,
            # A cancellation says so instead of repeating the warning's text.
            "ended": ended,
            "preferences_url": _absolute(reverse("notifications:preferences")),
            "unsubscribe_url": _UNSUBSCRIBE,
            "site_name": settings.SITE_NAME,
        }
        return _Parts(
            # One line: a feed's title may hold line breaks, which no mail header may.
            subject=" ".join(f"{heading}{title}".split()),
            summary=_summary(ended or notice.body),
            text=render_to_string("notifications/messages/warning.txt", context),
            html=render_to_string("notifications/messages/warning.html", context),
            url=url,
            areas=areas,
        )


def compose_digest(delivery: Delivery, notices: Sequence[Notice], *, language: str) -> Message:
    """A digest: the notices' titles, each with its page."""
    language = language if language in LANGUAGES else settings.LANGUAGE_CODE
    with translation.override(language):
        assert delivery.digest_period is not None, "a digest has its period"
        period = formats.date_format(delivery.digest_period, "MONTH_DAY_FORMAT")
        subject = ngettext(
            "For you (%(date)s): %(count)d notice",
            "For you (%(date)s): %(count)d notices",
            len(notices),
        ) % {"date": period, "count": len(notices)}
        items = [
            {"title": notice.title, "url": _absolute(reverse("notices:detail", args=[notice.pk]))}
            for notice in notices
        ]
        unsubscribe_url = _unsubscribe_url(delivery)
        home = _absolute(reverse("home"))
        context = {
            "subject": subject,
            "items": items,
            "url": home,
            "preferences_url": _absolute(reverse("notifications:preferences")),
            "unsubscribe_url": unsubscribe_url,
            "site_name": settings.SITE_NAME,
        }
        text = render_to_string("notifications/messages/digest.txt", context)
        html = render_to_string("notifications/messages/digest.html", context)
    return Message(
        delivery_id=delivery.pk,
        kind=delivery.kind,
        language=language,
        subject=subject,
        summary=_summary(" / ".join(item["title"] for item in items)),
        text=text,
        html=html,
        url=home,
        unsubscribe_url=unsubscribe_url,
        message_id=message_id_for(delivery.pk),
        data={"notices": [notice.pk for notice in notices]},
    )


def _ended_text(kind: str, ending: str) -> str:
    if kind != Kind.CANCELLATION:
        return ""
    if ending == Ending.LIFTED:
        return _("This warning has been lifted.")
    return _("This warning has been cancelled: it no longer holds.")


def _heading(kind: str, notice: Notice, ending: str) -> str:
    drill = _("[Exercise] ") if notice.is_exercise and "訓練" not in notice.title_ja else ""
    if kind == Kind.CANCELLATION:
        return drill + (_("Lifted: ") if ending == Ending.LIFTED else _("Cancelled: "))
    # An update of a warning is still a warning (or, downgraded, an advisory): it says which.
    urgency = _("[%(urgency)s] ") % {"urgency": notice.get_urgency_display()}
    return drill + urgency + (_("Updated: ") if kind == Kind.UPDATE else "")


def _summary(body: str, limit: int = 140) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _unsubscribe_url(delivery: Delivery) -> str:
    token = unsubscribe_token(resident_id=delivery.resident_id, channel=delivery.channel)
    return _absolute(reverse("notifications:unsubscribe", args=[token]))


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _mail_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "machiplus.localhost"
