"""Reads of the recommender's stored data, for pages and other apps."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from portal.notices.selectors import published_notices
from recommendations.models import FeedEntry, ModelVersion


def stored_feed(*, resident_id: int) -> QuerySet[FeedEntry]:
    """The resident's stored feed, best first, without the notices that stopped being published
    since it was computed (withdrawn, expired, superseded)."""
    live = published_notices(now=timezone.now()).values("pk")
    return (
        FeedEntry.objects.filter(resident_id=resident_id, notice_id__in=live)
        .select_related("notice")
        .order_by("position")
    )


def active_model_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(is_active=True).first()
