"""A feed's document becomes a notice through ``notice_ingest``: once per version, the latest
version of a series wins, a cancellation withdraws, a lift expires, an older version arriving
late changes nothing, and an exercise is never shown to residents."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.models import Area, OutboxTask
from portal.notices.models import FeedSeries, Notice, NoticeEvent, Status
from portal.notices.selectors import public_notices, published_notices
from portal.notices.services import IngestedVersion, IngestOutcome, notice_ingest
from portal.notices.tasks import announce_change
from tests.factories import MunicipalityFactory

pytestmark = pytest.mark.django_db

ISSUED = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def aizuwakamatsu() -> Area:
    return MunicipalityFactory.create(code="072028", name_ja="会津若松市")


def version(n: int = 1, **overrides: Any) -> IngestedVersion:
    values: dict[str, Any] = {
        "source": "jma",
        "series": "jma:気象警報・注意報:福島地方気象台:通常",
        "version_id": f"jma:気象警報・注意報:福島地方気象台:通常@v{n}",
        "version_at": ISSUED + timedelta(minutes=10 * n),
        "action": "issue",
        "category": "disaster",
        "urgency": "warning",
        "title_ja": f"会津若松市に大雪警報（第{n}報）",
        "body_ja": "会津若松市では、大雪に警戒してください。",
        "expires_at": timezone.now() + timedelta(hours=12),
    }
    values.update(overrides)
    return IngestedVersion(**values)


def actions(notice_id: int) -> list[str]:
    return list(
        NoticeEvent.objects.filter(notice_id=notice_id)
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_a_first_version_is_published_at_once_with_its_areas(aizuwakamatsu) -> None:
    result = notice_ingest(version=version(area_ids=[aizuwakamatsu.pk]))

    notice = Notice.objects.get(pk=result.notice_id or 0)
    assert result.outcome == IngestOutcome.CREATED
    assert notice.status == Status.PUBLISHED
    assert notice.source == "jma"
    assert list(notice.areas.all()) == [aizuwakamatsu]
    assert actions(notice.pk) == ["created", "ingested", "published"]


def test_the_same_version_twice_makes_one_notice() -> None:
    first = notice_ingest(version=version())
    again = notice_ingest(version=version())

    assert again.outcome == IngestOutcome.UNCHANGED
    assert Notice.objects.count() == 1
    assert again.notice_id is None and first.notice_id is not None


def test_a_later_version_supersedes_the_live_notice() -> None:
    first = notice_ingest(version=version(1))
    second = notice_ingest(version=version(2, urgency="emergency"))

    assert second.outcome == IngestOutcome.UPDATED
    assert second.ended_notice_id == first.notice_id
    earlier = Notice.objects.get(pk=first.notice_id or 0)
    later = Notice.objects.get(pk=second.notice_id or 0)
    assert earlier.status == Status.SUPERSEDED
    assert later.status == Status.PUBLISHED
    assert later.supersedes_id == earlier.pk


def test_an_older_version_arriving_late_changes_nothing() -> None:
    notice_ingest(version=version(2))
    late = notice_ingest(version=version(1))

    assert late.outcome == IngestOutcome.STALE
    assert Notice.objects.count() == 1
    assert Notice.objects.get().title_ja.endswith("（第2報）")


def test_a_cancellation_withdraws_the_live_notice_and_makes_none() -> None:
    first = notice_ingest(version=version(1))
    cancel = notice_ingest(version=version(2, action="cancel", title_ja=""))

    assert cancel.outcome == IngestOutcome.CANCELLED
    assert Notice.objects.count() == 1
    notice = Notice.objects.get(pk=first.notice_id or 0)
    assert notice.status == Status.WITHDRAWN
    assert notice.ended_at is not None
    assert actions(notice.pk)[-1] == "cancelled"


def test_a_lift_expires_the_live_notice() -> None:
    first = notice_ingest(version=version(1))
    lift = notice_ingest(version=version(2, action="lift", urgency="information"))

    assert lift.outcome == IngestOutcome.LIFTED
    assert Notice.objects.get(pk=first.notice_id or 0).status == Status.EXPIRED


def test_a_cancellation_before_anything_was_issued_changes_nothing_but_blocks_the_older_alert() -> (
    None
):
    cancel = notice_ingest(version=version(2, action="cancel"))
    late_alert = notice_ingest(version=version(1))

    assert cancel.outcome == IngestOutcome.NOTHING_LIVE
    assert late_alert.outcome == IngestOutcome.STALE
    assert not Notice.objects.exists()


def test_an_update_naming_an_earlier_version_joins_that_versions_series() -> None:
    alert = notice_ingest(version=version(1, source="cap", series="cap:city,alert-1"))
    update = notice_ingest(
        version=version(
            2,
            source="cap",
            series="cap:city,alert-2",
            references=["jma:気象警報・注意報:福島地方気象台:通常@v1"],
        )
    )

    assert update.outcome == IngestOutcome.UPDATED
    assert Notice.objects.get(pk=alert.notice_id or 0).status == Status.SUPERSEDED
    assert FeedSeries.objects.count() == 1


def test_a_cancellation_naming_a_cancelled_update_still_finds_the_series() -> None:
    notice_ingest(version=version(1, source="cap", series="cap:a"))
    notice_ingest(
        version=version(
            2, source="cap", series="cap:b", action="cancel", references=[version(1).version_id]
        )
    )
    again = notice_ingest(
        version=version(
            3, source="cap", series="cap:c", action="cancel", references=[version(2).version_id]
        )
    )

    assert again.outcome == IngestOutcome.NOTHING_LIVE
    assert FeedSeries.objects.count() == 1


def test_an_exercise_is_stored_but_never_shown_to_residents() -> None:
    result = notice_ingest(version=version(is_exercise=True))

    notice = Notice.objects.get(pk=result.notice_id or 0)
    assert notice.status == Status.PUBLISHED and notice.is_exercise
    assert not published_notices().filter(pk=notice.pk).exists()
    assert not public_notices().filter(pk=notice.pk).exists()


def test_a_version_that_expired_before_it_arrived_is_kept_but_ended() -> None:
    result = notice_ingest(version=version(expires_at=timezone.now() - timedelta(days=1)))

    notice = Notice.objects.get(pk=result.notice_id or 0)
    assert notice.status == Status.EXPIRED
    assert not published_notices().filter(pk=notice.pk).exists()


def test_publishing_and_ending_are_announced_to_the_worker() -> None:
    first = notice_ingest(version=version(1))
    notice_ingest(version=version(2, action="cancel"))

    changes = [
        (kwargs["notice_id"], kwargs["change"])
        for kwargs in OutboxTask.objects.filter(task_name=announce_change.name)
        .order_by("id")
        .values_list("kwargs", flat=True)
    ]
    assert changes == [(first.notice_id, "published"), (first.notice_id, "withdrawn")]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title_ja": "   "}, "title_ja"),
        ({"category": "school"}, "category"),
        ({"urgency": "apocalyptic"}, "urgency"),
        ({"source": "staff"}, "source"),
        ({"body_ja": "<script>alert(1)</script>"}, "body_ja"),
        ({"body_ja": "[x](javascript:alert(1))"}, "body_ja"),
        ({"version_at": datetime(2026, 12, 3, 9, 0)}, "version_at"),  # noqa: DTZ001
        ({"series": ""}, "series"),
        ({"title_ja": "長" * 201}, "title_ja"),
    ],
)
def test_a_version_no_notice_can_be_made_of_is_refused_with_nothing_stored(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        notice_ingest(version=replace(version(), **overrides))

    assert field in refused.value.message_dict
    assert not Notice.objects.exists()
    assert not FeedSeries.objects.exists()
