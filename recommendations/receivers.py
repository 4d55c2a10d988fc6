"""What the recommender does when consent narrows (the resident's stored feed is rescored at once:
their reasons may no longer name what they stopped sharing), when it widens or the resident's
profile changes (the feed follows within seconds) and when a notice is published (it enters the
feeds where it ranks)."""

from __future__ import annotations

from typing import Any

from consent.catalogue import Category, PurposeCode
from portal.infra.task_outbox import enqueue_on_commit
from recommendations.features import CATEGORIES_USED
from recommendations.services import feed_forget
from recommendations.tasks import fan_out_notice, rescore_resident


def rescore_on_narrowed_consent(
    sender: object, *, resident_id: int, purpose: str, categories: frozenset[str], **kwargs: Any
) -> None:
    """Receiver of consent.signals.consent_narrowed, inside the transaction that narrowed it:
    the rescore is enqueued when it commits."""
    if purpose == PurposeCode.PERSONALISED_HOME:
        feed_forget(resident_id=resident_id)
        enqueue_on_commit(rescore_resident, resident_id=resident_id)


def rescore_on_widened_consent(
    sender: object, *, resident_id: int, purpose: str, categories: frozenset[str], **kwargs: Any
) -> None:
    """Receiver of consent.signals.consent_widened: what the resident now shares for the home
    page counts from the next few seconds, not the next hourly rescore."""
    if purpose == PurposeCode.PERSONALISED_HOME and categories & set(CATEGORIES_USED):
        enqueue_on_commit(rescore_resident, resident_id=resident_id)


def rescore_on_profile_change(
    sender: object, *, resident_id: int, categories: frozenset[str], **kwargs: Any
) -> None:
    """Receiver of portal.residents.signals.profile_changed. The rescore reads the new values
    through the gate: a category not shared for the home page changes nothing there."""
    if not categories & set(CATEGORIES_USED):
        return
    # A place, age, child or interest changed: reasons may name what is no longer true. (A
    # notice saved or set aside changes no reason; the list stays while the rescore runs.)
    if categories - {Category.INTERACTIONS}:
        feed_forget(resident_id=resident_id)
    enqueue_on_commit(rescore_resident, resident_id=resident_id)


def fan_out_on_publication(sender: object, *, notice_id: int, change: str, **kwargs: Any) -> None:
    """Receiver of portal.notices.signals.notice_changed (sent by the worker). A notice that
    stops being shown needs nothing: the feeds' reader drops it at once."""
    if change == "published":
        enqueue_on_commit(fan_out_notice, notice_id=notice_id)
