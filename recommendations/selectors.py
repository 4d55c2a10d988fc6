"""Reads of the recommender's stored data, for pages and other apps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from portal.notices.models import Notice
from portal.notices.selectors import published_notices
from recommendations.models import StoredFeed
from recommendations.scoring import REASON_BITS


@dataclass(frozen=True)
class FeedItem:
    """One notice of a resident's stored feed, with why it is there."""

    notice: Notice
    position: int
    score: float
    reasons: int  # recommendations.scoring.REASON_BITS
    reason_area_id: int  # 0: none
    reason_interest_id: int
    reason_school_id: int
    model_version_id: int
    computed_at: datetime

    @property
    def notice_id(self) -> int:
        return self.notice.pk

    @property
    def reason_codes(self) -> frozenset[str]:
        """The reasons by name: "area", "interest", "urgency", "for_everyone"…"""
        return frozenset(name for name, bit in REASON_BITS.items() if self.reasons & bit)


def stored_feed(*, resident_id: int) -> list[FeedItem]:
    """The resident's stored feed, best first, without the notices that stopped being published
    since it was computed (withdrawn, expired, superseded). Two queries."""
    feed = StoredFeed.objects.filter(resident_id=resident_id).first()
    if feed is None:
        return []
    entries = feed.entries
    ids = entries.get("notice", [])
    live = published_notices(now=timezone.now()).in_bulk(ids)
    return [
        FeedItem(
            notice=live[notice_id],
            position=position,
            score=entries["score"][position],
            reasons=entries["reasons"][position],
            reason_area_id=entries["area"][position],
            reason_interest_id=entries["interest"][position],
            reason_school_id=entries["school"][position],
            model_version_id=feed.model_version_id,
            computed_at=feed.computed_at,
        )
        for position, notice_id in enumerate(ids)
        if notice_id in live
    ]
