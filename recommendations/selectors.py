"""Reads of the recommender's stored data, for pages and other apps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from consent.catalogue import PurposeCode
from consent.selectors import grant_dates
from portal.models import Area, InterestTag, School
from portal.notices.models import Notice
from portal.notices.selectors import NOTICE_TEXTS, published_notices
from recommendations.models import (
    FEED_SIZE,
    FeedAddition,
    ModelVersion,
    NoticeEngagement,
    StoredFeed,
)
from recommendations.reasons import ReasonNames, reason_lines
from recommendations.scoring import PRIOR_WEIGHTS, REASON_BITS


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
    """The resident's feed, best first: the stored ranking with the notices fanned out to it
    since, each placed after every entry scoring at least as much; without the notices that
    stopped being published (withdrawn, expired, superseded). Three queries."""
    entries = _stored_entries(resident_id)
    for addition in FeedAddition.objects.filter(resident_id=resident_id).order_by(
        "-score", "notice_id"
    ):
        entries = [entry for entry in entries if entry.notice_id != addition.notice_id]
        position = next(
            (i for i, entry in enumerate(entries) if entry.score < addition.score), len(entries)
        )
        entries.insert(position, _Entry.of_addition(addition))
    entries = entries[:FEED_SIZE]
    # Lists show titles: the texts stay in the database until a notice is opened.
    live = (
        published_notices(now=timezone.now())
        .defer(*NOTICE_TEXTS)
        .in_bulk([entry.notice_id for entry in entries])
    )
    return [
        FeedItem(
            notice=live[entry.notice_id],
            position=position,
            score=entry.score,
            reasons=entry.reasons,
            reason_area_id=entry.area,
            reason_interest_id=entry.interest,
            reason_school_id=entry.school,
            model_version_id=entry.model_version_id,
            computed_at=entry.computed_at,
        )
        for position, entry in enumerate(entry for entry in entries if entry.notice_id in live)
    ]


@dataclass(frozen=True)
class _Entry:
    notice_id: int
    score: float
    reasons: int
    area: int
    interest: int
    school: int
    model_version_id: int
    computed_at: datetime

    @classmethod
    def of_addition(cls, addition: FeedAddition) -> _Entry:
        return cls(
            addition.notice_id,
            addition.score,
            addition.reasons,
            addition.reason_area_id,
            addition.reason_interest_id,
            addition.reason_school_id,
            addition.model_version_id,
            addition.added_at,
        )


def _stored_entries(resident_id: int) -> list[_Entry]:
    feed = StoredFeed.objects.filter(resident_id=resident_id).first()
    if feed is None:
        return []
    lists = feed.entries
    return [
        _Entry(
            notice_id,
            lists["score"][i],
            lists["reasons"][i],
            lists["area"][i],
            lists["interest"][i],
            lists["school"][i],
            feed.model_version_id,
            feed.computed_at,
        )
        for i, notice_id in enumerate(lists.get("notice", []))
    ]


@dataclass(frozen=True)
class ExplainedItem:
    """A feed entry with its "why am I seeing this?" sentences."""

    item: FeedItem
    reasons: list[str]

    @property
    def notice(self) -> Notice:
        return self.item.notice


def explained_feed(
    *,
    resident_id: int,
    granted: Mapping[str, datetime] | None = None,
    limit: int | None = None,
) -> list[ExplainedItem]:
    """The resident's feed with each entry's reasons in the page's language: the names the
    reasons point at and the dates of the consents they rest on (``granted``: the grant dates of
    their home page's consent, when the caller has read them already). An entry whose reasons
    rest on data no longer shared is left out; ``limit``: stop after that many entries kept."""
    items = stored_feed(resident_id=resident_id)
    if not items:
        return []
    if granted is None:
        granted = grant_dates(resident_id=resident_id, purpose_code=PurposeCode.PERSONALISED_HOME)
    names = _reason_names(items)
    explained: list[ExplainedItem] = []
    for item in items:
        reasons = reason_lines(
            reasons=item.reasons,
            category=item.notice.category,
            area_id=item.reason_area_id,
            interest_id=item.reason_interest_id,
            school_id=item.reason_school_id,
            names=names,
            granted=granted,
        )
        # An entry whose reasons rest on data no longer shared is not shown at all.
        if reasons:
            explained.append(ExplainedItem(item=item, reasons=reasons))
        if limit is not None and len(explained) == limit:
            break
    return explained


# Areas, interests and schools are renamed (or removed) a few times a year at most: a "why
# this?" sentence may name one by its old name for up to ten minutes.
NAMES_CACHE_SECONDS = 600

_Named = Area | InterestTag | School
_KINDS: dict[str, type[_Named]] = {"area": Area, "interest": InterestTag, "school": School}


def _reason_names(items: list[FeedItem]) -> ReasonNames:
    """The names the reasons point at, in the page's language: (Japanese, English) pairs from
    the cache, the rest in one query per kind."""
    wanted = {
        "area": {item.reason_area_id for item in items} - {0},
        "interest": {item.reason_interest_id for item in items} - {0},
        "school": {item.reason_school_id for item in items} - {0},
    }
    keys = {f"reason-name:{kind}:{pk}": (kind, pk) for kind, ids in wanted.items() for pk in ids}
    cached: dict[str, tuple[str, str]] = cache.get_many(list(keys)) if keys else {}
    names: dict[str, dict[int, tuple[str, str]]] = {kind: {} for kind in wanted}
    for key, pair in cached.items():
        kind, pk = keys[key]
        names[kind][pk] = pair
    for kind, ids in wanted.items():
        missing = ids - names[kind].keys()
        if missing:
            rows = (
                _KINDS[kind].objects.filter(pk__in=missing).values_list("pk", "name_ja", "name_en")
            )
            read = {pk: (name_ja, name_en) for pk, name_ja, name_en in rows}
            cache.set_many(
                {f"reason-name:{kind}:{pk}": pair for pk, pair in read.items()}, NAMES_CACHE_SECONDS
            )
            names[kind].update(read)

    def in_language(kind: str) -> dict[int, str]:
        return {pk: Area.in_language(ja, en) for pk, (ja, en) in names[kind].items()}

    return ReasonNames(
        areas=in_language("area"), interests=in_language("interest"), schools=in_language("school")
    )


@dataclass(frozen=True)
class Engagement:
    """What residents did with a notice, counted anonymously."""

    shown: int = 0
    opened: int = 0
    saved: int = 0
    dismissed: int = 0


def notice_engagement(*, notice_id: int) -> Engagement:
    row = NoticeEngagement.objects.filter(notice_id=notice_id).first()
    if row is None:
        return Engagement()
    return Engagement(row.shown, row.opened, row.saved, row.dismissed)


@dataclass(frozen=True)
class RankerStatus:
    """Which model ranks the home pages now, and the latest versions trained, for staff."""

    active: ModelVersion | None  # None: the prior (no model promoted yet)
    recent: list[ModelVersion]
    prior_weights: dict[str, float]


def ranker_status(*, recent: int = 5) -> RankerStatus:
    versions = ModelVersion.objects.defer("text_model")
    return RankerStatus(
        active=versions.filter(is_active=True).first(),
        recent=list(versions.order_by("-created_at", "-id")[:recent]),
        prior_weights=dict(PRIOR_WEIGHTS),
    )
