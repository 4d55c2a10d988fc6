"""What a resident does with their "for you" list: save, set aside ("not interested") and undo.

The interaction is stored only if the resident shares their history on this site for the home
page (portal.residents.services decides); the anonymous counts behind popularity take only each
such resident's first showing, opening and save of a notice, so no account can inflate them.
Setting a notice aside takes it out of the stored feed at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction

from portal.residents.services import (
    InteractionKind,
    interaction_record_once,
    interactions_shown_first,
)
from recommendations.services import engagement_count, feed_drop

ACTIONS = {
    "save": InteractionKind.SAVED,
    "unsave": InteractionKind.UNSAVED,
    "dismiss": InteractionKind.DISMISSED,
    "undismiss": InteractionKind.UNDISMISSED,
}


@dataclass(frozen=True)
class FeedActionOutcome:
    action: str
    stored: bool  # False: the resident does not share their history, nothing was changed


@transaction.atomic
def feed_action(*, resident_id: int, notice_id: int, action: str) -> FeedActionOutcome:
    """Record ``action`` (one of ACTIONS) on a notice the caller has checked the resident may
    see. Without the consent that lets it be stored, nothing changes."""
    kind = ACTIONS[action]
    recorded = interaction_record_once(resident_id=resident_id, notice_id=notice_id, kind=kind)
    if not recorded.stored:
        return FeedActionOutcome(action=action, stored=False)
    # A resident's save counts once in the anonymous counts, however often they save again.
    if action == "save" and recorded.first:
        engagement_count(notice_ids=[notice_id], kind="saved")
    if action == "dismiss":
        engagement_count(notice_ids=[notice_id], kind="dismissed")
        feed_drop(resident_id=resident_id, notice_id=notice_id)
    return FeedActionOutcome(action=action, stored=True)


def notice_opened(*, resident_id: int, notice_id: int) -> None:
    """The resident opened a notice from their list: counted the first time only, and only for
    a resident who shares their history (so one account cannot inflate a notice's popularity
    by opening it again and again)."""
    recorded = interaction_record_once(
        resident_id=resident_id, notice_id=notice_id, kind=InteractionKind.OPENED
    )
    if recorded.first:
        engagement_count(notice_ids=[notice_id], kind="opened")


# A notice shown again to a resident within this many seconds (a reload, coming back from a
# notice or from another page) is the same visit: not a new showing.
VISIT_SECONDS = 30 * 60


def notices_shown(*, resident_id: int, notice_ids: list[int]) -> None:
    """The resident's list was shown with these notices: each counted once per visit in their
    history (the ranker learns from visits, not reloads) and once per resident in the anonymous
    counts."""
    marks = {visit_mark(resident_id, notice_id): notice_id for notice_id in notice_ids}
    seen = cache.get_many(list(marks))
    new = [notice_id for mark, notice_id in marks.items() if mark not in seen]
    if not new:
        return
    first = interactions_shown_first(resident_id=resident_id, notice_ids=new)
    if first is None:  # nothing stored: the resident does not share their history
        return
    # Marked only once stored, so a showing that could not be kept is tried again next time.
    cache.set_many({visit_mark(resident_id, notice_id): 1 for notice_id in new}, VISIT_SECONDS)
    if first:
        engagement_count(notice_ids=first, kind="shown")


def visit_mark(resident_id: int, notice_id: int) -> str:
    """The cache key saying the notice was shown to the resident during the current visit."""
    return f"home:shown:{resident_id}:{notice_id}"
