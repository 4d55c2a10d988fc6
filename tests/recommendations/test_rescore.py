"""Rescoring a range of residents: each stored feed holds the notices meant for the resident,
with reasons naming only the data the scorer used, and a rescore replaces it whole."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.models import Area
from portal.residents import services as profile_services
from recommendations.scoring import REASON_BITS
from recommendations.selectors import stored_feed
from recommendations.services import feeds_rescore
from tests.factories import DistrictFactory, NoticeFactory, UserFactory
from tests.helpers import grant, withdraw

pytestmark = pytest.mark.django_db


def rescore(*residents, now=None) -> None:
    ids = [resident.pk for resident in residents]
    feeds_rescore(id_range=(min(ids), max(ids)), now=now)


def feed(resident) -> list[int]:
    return [entry.notice_id for entry in stored_feed(resident_id=resident.pk)]


@pytest.fixture
def district() -> Area:
    return DistrictFactory.create(name_ja="北会津")


@pytest.fixture
def neighbour(district) -> object:
    """A resident whose home lies in the district, shared for the personalised home page."""
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places", "interactions")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    return resident


def test_a_notice_for_the_residents_area_is_in_their_feed_with_the_area_as_reason(
    district, neighbour
) -> None:
    notice = NoticeFactory.create()
    notice.areas.add(district)
    elsewhere = NoticeFactory.create()
    elsewhere.areas.add(DistrictFactory.create())

    rescore(neighbour)

    (entry,) = stored_feed(resident_id=neighbour.pk)
    assert entry.notice_id == notice.pk
    assert entry.reasons & REASON_BITS["area"]
    assert entry.reason_area_id == district.pk


def test_notices_for_everyone_are_in_every_feed(neighbour) -> None:
    notice = NoticeFactory.create()

    rescore(neighbour)

    assert feed(neighbour) == [notice.pk]


def test_rescoring_twice_stores_the_same_feed(district, neighbour) -> None:
    for _ in range(5):
        NoticeFactory.create().areas.add(district)
    NoticeFactory.create()
    now = timezone.now()
    rescore(neighbour, now=now)
    first = [(e.notice_id, e.position, e.reasons) for e in stored_feed(resident_id=neighbour.pk)]

    rescore(neighbour, now=now)

    again = [(e.notice_id, e.position, e.reasons) for e in stored_feed(resident_id=neighbour.pk)]
    assert again == first and len(first) == 6


def test_withdrawing_places_takes_the_area_notice_and_its_reason_away(district, neighbour) -> None:
    targeted = NoticeFactory.create()
    targeted.areas.add(district)
    for_everyone = NoticeFactory.create()
    rescore(neighbour)
    assert set(feed(neighbour)) == {targeted.pk, for_everyone.pk}

    withdraw(neighbour, category="places")
    rescore(neighbour)

    entries = list(stored_feed(resident_id=neighbour.pk))
    assert [e.notice_id for e in entries] == [for_everyone.pk]
    assert not any(e.reasons & REASON_BITS["area"] for e in entries)


def test_a_resident_who_stops_sharing_everything_has_no_stored_feed(neighbour) -> None:
    NoticeFactory.create()
    rescore(neighbour)

    withdraw(neighbour, purpose="personalised_home")
    rescore(neighbour)

    assert feed(neighbour) == []


def test_a_notice_set_aside_leaves_the_feed(neighbour) -> None:
    kept, dismissed = NoticeFactory.create(), NoticeFactory.create()
    profile_services.interaction_record(
        resident_id=neighbour.pk, notice_id=dismissed.pk, kind="dismissed"
    )

    rescore(neighbour)

    assert feed(neighbour) == [kept.pk]


def test_a_notice_expired_since_the_rescore_is_not_shown(neighbour) -> None:
    notice = NoticeFactory.create(expires_at=timezone.now() + timedelta(minutes=5))
    rescore(neighbour)
    assert feed(neighbour) == [notice.pk]

    notice.expires_at = timezone.now() - timedelta(seconds=1)
    notice.save()

    assert feed(neighbour) == []


def test_the_feed_mixes_categories_at_the_top(neighbour) -> None:
    for _ in range(6):
        NoticeFactory.create(category="events")
    transport = NoticeFactory.create(
        category="transport", published_at=timezone.now() - timedelta(hours=30)
    )

    rescore(neighbour)

    assert transport.pk in feed(neighbour)[:3]


def test_deleting_an_account_deletes_its_stored_feed(neighbour) -> None:
    from recommendations.models import StoredFeed

    NoticeFactory.create()
    rescore(neighbour)
    assert StoredFeed.objects.filter(resident_id=neighbour.pk).exists()

    profile_services.account_delete(user=neighbour)

    assert not StoredFeed.objects.filter(resident_id=neighbour.pk).exists()
