"""The snow notice of each plowed area ("北会津：最終除雪 05:40"), kept through the notices
services (category snow, source snow service) while snow operations are active."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.models import Area
from portal.notices.models import FeedSeries, Notice, Status
from portal.notices.services import IngestedVersion, notice_ingest
from portal.snow.models import AreaPlowStatus, SnowOperations

JAPAN = ZoneInfo("Asia/Tokyo")


def series_of(area_code: str) -> str:
    return f"snow:area:{area_code}"


def snow_notices_refresh(*, now: datetime | None = None) -> int:
    """A new version of an area's notice once its last-plowed time moved on by at least
    SNOW_NOTICE_MINUTES (each version supersedes the last); nothing while operations are off."""
    now = now or timezone.now()
    if not SnowOperations.current().active:
        return 0
    plowed = _last_plowed_by_district()
    latest = dict(
        FeedSeries.objects.filter(
            source="snow", key__in=[series_of(district.code) for district in plowed]
        ).values_list("key", "latest_version_at")
    )
    step = timedelta(minutes=settings.SNOW_NOTICE_MINUTES)
    written = 0
    for district, at in plowed.items():
        shown = latest.get(series_of(district.code))
        if shown is not None and at - shown < step:
            continue
        notice_ingest(version=_version(district, at, now=now), now=now)
        written += 1
    return written


def _last_plowed_by_district() -> dict[Area, datetime]:
    """One time per district: the latest of the district's own and its neighbourhoods'. A
    notice per district reaches everyone with a place in it or in one of its neighbourhoods; a
    notice per neighbourhood as well would tell them twice."""
    plowed: dict[Area, datetime] = {}
    for status in AreaPlowStatus.objects.select_related("area", "area__parent"):
        area = status.area
        district = area if area.kind == Area.Kind.DISTRICT else area.parent
        if district is None or district.kind != Area.Kind.DISTRICT:
            continue
        if district not in plowed or status.last_plowed_at > plowed[district]:
            plowed[district] = status.last_plowed_at
    return plowed


def snow_operations_set(*, active: bool, by: str = "", now: datetime | None = None) -> int:
    """Switch operations on or off; off ends every live snow notice. Returns notices ended."""
    now = now or timezone.now()
    with transaction.atomic():
        operations = SnowOperations.current()
        operations.active, operations.changed_by = active, by
        operations.save()
        if active:
            return 0
        ended = 0
        for notice in Notice.objects.filter(source="snow", status=Status.PUBLISHED):
            notice_ingest(
                version=IngestedVersion(
                    source="snow",
                    series=notice.series,
                    version_id=f"{notice.series}@ended-{now.isoformat()}",
                    version_at=now,
                    action="lift",
                    category="snow",
                    urgency="information",
                    title_ja="",
                ),
                now=now,
            )
            ended += 1
    return ended


def _version(area: Area, last_plowed_at: datetime, *, now: datetime) -> IngestedVersion:
    when = last_plowed_at.astimezone(JAPAN)
    clock = f"{when:%H:%M}"
    series = series_of(area.code)
    return IngestedVersion(
        source="snow",
        series=series,
        version_id=f"{series}@{last_plowed_at.isoformat()}",
        version_at=last_plowed_at,
        action="issue",
        category="snow",
        urgency="information",
        title_ja=f"{area.name_ja}：最終除雪 {when.month}月{when.day}日 {clock}",
        body_ja=(
            f"{area.name_ja}を除雪車が最後に通ったのは{when.month}月{when.day}日 {clock}です。"
            "\n\n除雪車の位置は「除雪状況」のページで見られます。"
        ),
        title_en=f"{area.name_en or area.name_ja}: last plowed {when:%d %b} {clock}",
        body_en=(
            f"A snow plow last passed {area.name_en or area.name_ja} on {when:%d %B} at {clock}."
        ),
        area_ids=[area.pk],
        expires_at=now + timedelta(hours=settings.SNOW_NOTICE_HOURS),
    )
