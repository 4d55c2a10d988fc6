"""A newly published notice enters the stored feeds where it ranks, without a rescore of
everyone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.models import OutboxTask, User
from portal.notices.tasks import announce_change
from portal.residents import services as profile_services
from recommendations import services
from recommendations.models import FeedAddition, StoredFeed
from recommendations.selectors import stored_feed
from recommendations.services import feeds_fan_out, feeds_rescore
from recommendations.tasks import fan_out_notice, fan_out_range
from tests.factories import DistrictFactory, NoticeFactory, UserFactory
from tests.helpers import grant

pytestmark = pytest.mark.django_db


def resident_in(district) -> User:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    return resident


def feed(resident) -> list[int]:
    return [item.notice_id for item in stored_feed(resident_id=resident.pk)]


def test_a_new_area_notice_enters_the_feeds_of_that_areas_residents_only() -> None:
    here, elsewhere = DistrictFactory.create(), DistrictFactory.create()
    neighbour, stranger = resident_in(here), resident_in(elsewhere)
    older = NoticeFactory.create(published_at=timezone.now() - timedelta(days=3))
    feeds_rescore(id_range=(neighbour.pk, stranger.pk))
    new = NoticeFactory.create()
    new.areas.add(here)

    result = feeds_fan_out(notice_id=new.pk)

    assert result.feeds_entered == 1
    assert feed(neighbour) == [new.pk, older.pk]
    assert "area" in stored_feed(resident_id=neighbour.pk)[0].reason_codes
    assert feed(stranger) == [older.pk]


def test_fanning_out_twice_changes_nothing() -> None:
    resident = resident_in(DistrictFactory.create())
    NoticeFactory.create(published_at=timezone.now() - timedelta(days=3))
    feeds_rescore(id_range=(resident.pk, resident.pk))
    new = NoticeFactory.create()
    feeds_fan_out(notice_id=new.pk)
    first = feed(resident)

    feeds_fan_out(notice_id=new.pk)

    assert feed(resident) == first and len(first) == 2


def test_a_notice_ranking_below_a_full_feed_does_not_enter(monkeypatch) -> None:
    monkeypatch.setattr(services, "FEED_SIZE", 2)
    resident = resident_in(DistrictFactory.create())
    for _ in range(2):
        NoticeFactory.create(urgency="emergency")
    feeds_rescore(id_range=(resident.pk, resident.pk))
    weak = NoticeFactory.create(published_at=timezone.now() - timedelta(days=20))

    assert feeds_fan_out(notice_id=weak.pk).feeds_entered == 0
    assert weak.pk not in feed(resident)


def test_a_notice_no_longer_shown_enters_no_feed() -> None:
    resident = resident_in(DistrictFactory.create())
    withdrawn = NoticeFactory.create(status="withdrawn")

    assert feeds_fan_out(notice_id=withdrawn.pk).feeds_entered == 0
    assert feed(resident) == []


def test_publication_enqueues_the_fan_out() -> None:
    notice = NoticeFactory.create()

    announce_change.run(notice.pk, "published")

    queued = OutboxTask.objects.filter(task_name="recommendations.fan_out_notice")
    assert [task.kwargs for task in queued] == [{"notice_id": notice.pk}]


def test_a_feed_with_room_left_takes_even_a_weak_notice_at_its_end(monkeypatch) -> None:
    monkeypatch.setattr(services, "FEED_SIZE", 3)
    resident = resident_in(DistrictFactory.create())
    strong = NoticeFactory.create(urgency="emergency")
    feeds_rescore(id_range=(resident.pk, resident.pk))
    weak = NoticeFactory.create(published_at=timezone.now() - timedelta(days=20))

    assert feeds_fan_out(notice_id=weak.pk).feeds_entered == 1
    assert feed(resident) == [strong.pk, weak.pk]


def test_the_fan_out_adds_rows_and_leaves_the_stored_feed_as_it_was() -> None:
    resident = resident_in(DistrictFactory.create())
    NoticeFactory.create(published_at=timezone.now() - timedelta(days=3))
    feeds_rescore(id_range=(resident.pk, resident.pk))
    stored = StoredFeed.objects.get(resident_id=resident.pk).entries
    new = NoticeFactory.create()

    feeds_fan_out(notice_id=new.pk)

    assert StoredFeed.objects.get(resident_id=resident.pk).entries == stored
    assert list(FeedAddition.objects.values_list("resident_id", "notice_id")) == [
        (resident.pk, new.pk)
    ]


def test_the_next_rescore_ranks_the_added_notice_itself_and_drops_the_addition() -> None:
    resident = resident_in(DistrictFactory.create())
    feeds_rescore(id_range=(resident.pk, resident.pk))
    new = NoticeFactory.create()
    feeds_fan_out(notice_id=new.pk)

    feeds_rescore(id_range=(resident.pk, resident.pk))

    assert not FeedAddition.objects.exists()
    assert feed(resident) == [new.pk]


def test_an_added_notice_goes_after_every_stored_entry_scoring_at_least_as_much() -> None:
    resident = resident_in(DistrictFactory.create())
    urgent = NoticeFactory.create(urgency="emergency")
    old = NoticeFactory.create(published_at=timezone.now() - timedelta(days=20))
    feeds_rescore(id_range=(resident.pk, resident.pk))
    new = NoticeFactory.create()

    feeds_fan_out(notice_id=new.pk)

    assert feed(resident) == [urgent.pk, new.pk, old.pk]


def test_a_fan_out_of_one_range_reaches_only_the_residents_in_it() -> None:
    district = DistrictFactory.create()
    first, second = resident_in(district), resident_in(district)
    new = NoticeFactory.create()

    result = feeds_fan_out(notice_id=new.pk, id_range=(second.pk, second.pk))

    assert result.feeds_entered == 1
    assert feed(first) == [] and feed(second) == [new.pk]


def test_the_fan_out_task_sends_one_range_task_per_range(monkeypatch, settings) -> None:
    settings.RECOMMENDER_RANGE_SIZE = 2
    sent: list[tuple[object, ...]] = []
    monkeypatch.setattr(
        "celery.canvas.group.apply_async",
        lambda self, *a, **k: sent.extend(task.args for task in self.tasks),
    )
    district = DistrictFactory.create()
    residents = [resident_in(district) for _ in range(3)]
    notice = NoticeFactory.create()

    assert fan_out_notice.run(notice.pk) == 2
    assert sent == [
        (notice.pk, residents[0].pk, residents[1].pk),
        (notice.pk, residents[2].pk, residents[2].pk),
    ]


def test_the_range_task_adds_the_notice_and_running_it_twice_changes_nothing() -> None:
    resident = resident_in(DistrictFactory.create())
    notice = NoticeFactory.create()

    assert fan_out_range.run(notice.pk, resident.pk, resident.pk) == 1
    assert fan_out_range.run(notice.pk, resident.pk, resident.pk) == 1

    assert FeedAddition.objects.count() == 1 and feed(resident) == [notice.pk]


def test_an_account_deleted_takes_its_additions_with_it() -> None:
    resident = resident_in(DistrictFactory.create())
    feeds_fan_out(notice_id=NoticeFactory.create().pk)

    resident.delete()

    assert not FeedAddition.objects.exists()
