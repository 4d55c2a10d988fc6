"""Reads of the feeds for the staff page."""

from __future__ import annotations

from django.db.models import QuerySet

from portal.feeds.models import FLAG_AFTER_FAILURES, Run, Source


def sources_for_staff() -> QuerySet[Source]:
    """Failing sources first: they are what the page is for."""
    return Source.objects.order_by("-consecutive_failures", "name")


def failing_sources() -> QuerySet[Source]:
    return Source.objects.filter(enabled=True, consecutive_failures__gte=FLAG_AFTER_FAILURES)


def recent_runs(*, source_id: int | None = None) -> QuerySet[Run]:
    runs = Run.objects.select_related("source").order_by("-started_at", "-id")
    if source_id is not None:
        runs = runs.filter(source_id=source_id)
    return runs
