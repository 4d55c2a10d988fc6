"""What a resident does with their "for you" list: save, set aside ("not interested") and undo.

The interaction is stored only if the resident shares their history on this site for the home
page (portal.residents.services decides); the anonymous count is kept either way, since no
resident is in it. Setting a notice aside takes it out of the stored feed at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from portal.residents.services import InteractionKind, interaction_record, interactions_shown
from recommendations.services import engagement_count, feed_drop

ACTIONS = {
    "save": InteractionKind.SAVED,
    "unsave": InteractionKind.UNSAVED,
    "dismiss": InteractionKind.DISMISSED,
    "undismiss": InteractionKind.UNDISMISSED,
}
# The anonymous counts only go up: undoing is not counted.
_COUNTED = {"save": "saved", "dismiss": "dismissed"}


@dataclass(frozen=True)
class FeedActionOutcome:
    action: str
    stored: bool  # False: the resident does not share their history, nothing was changed


@transaction.atomic
def feed_action(*, resident_id: int, notice_id: int, action: str) -> FeedActionOutcome:
    """Record ``action`` (one of ACTIONS) on a notice the caller has checked the resident may
    see. Without the consent that lets it be stored, nothing changes."""
    kind = ACTIONS[action]
    stored = interaction_record(resident_id=resident_id, notice_id=notice_id, kind=kind)
    if not stored:
        return FeedActionOutcome(action=action, stored=False)
    if action in _COUNTED:
        engagement_count(notice_ids=[notice_id], kind=_COUNTED[action])
    if action == "dismiss":
        feed_drop(resident_id=resident_id, notice_id=notice_id)
    return FeedActionOutcome(action=action, stored=True)


def notice_opened(*, resident_id: int, notice_id: int) -> None:
    """The resident opened a notice from their list."""
    interaction_record(resident_id=resident_id, notice_id=notice_id, kind=InteractionKind.OPENED)
    engagement_count(notice_ids=[notice_id], kind="opened")


def notices_shown(*, resident_id: int, notice_ids: list[int]) -> None:
    """The resident's list was shown with these notices."""
    interactions_shown(resident_id=resident_id, notice_ids=notice_ids)
    engagement_count(notice_ids=notice_ids, kind="shown")
