"""What notifications do when a notice changes (the worker tells them) and when a resident's
consent narrows (inside the transaction that narrowed it)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from consent.catalogue import Category, PurposeCode
from portal.infra.task_outbox import enqueue_on_commit
from portal.notifications.models import WARNING_KINDS, Kind


def fan_out_on_notice_change(sender: object, *, notice_id: int, change: str, **kwargs: Any) -> None:
    """Receiver of portal.notices.signals.notice_changed: the fan-out decides whether the change
    sends anything (most notices send nothing at once)."""
    from portal.notifications.tasks import fan_out

    enqueue_on_commit(fan_out, notice_id=notice_id, change=change)


def suppress_on_narrowed_consent(
    sender: object, *, resident_id: int, purpose: str, categories: frozenset[str], **kwargs: Any
) -> None:
    """Receiver of consent.signals.consent_narrowed: a resident who stops sharing their places
    for disaster warnings is sent none of the warnings not sent yet, from this moment; one who
    shares less for their home page, none of their digests not sent yet (a sender looks at each
    row just before sending it)."""
    from portal.notifications.delivery import deliveries_suppress

    if purpose == PurposeCode.DISASTER_WARNINGS and Category.PLACES in categories:
        deliveries_suppress(
            resident_id=resident_id,
            kinds=WARNING_KINDS,
            reason=gettext_noop("consent withdrawn before it was sent"),
        )
    elif purpose == PurposeCode.PERSONALISED_HOME:
        # A digest's notices were chosen with what the resident shared for their home page.
        deliveries_suppress(
            resident_id=resident_id,
            kinds=[Kind.DIGEST],
            reason=gettext_noop("consent withdrawn before it was sent"),
        )
