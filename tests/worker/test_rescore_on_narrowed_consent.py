"""A real worker rescores a resident's feed within 5 seconds of their consent narrowing: the
notice aimed at their area, and the reason naming it, are gone."""

from __future__ import annotations

import time

import pytest

from portal.residents import services as profile_services
from recommendations.selectors import stored_feed
from recommendations.services import feeds_rescore
from tests.factories import DistrictFactory, NoticeFactory, UserFactory
from tests.helpers import grant, withdraw
from tests.worker.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_withdrawing_places_rescores_the_feed_within_5_seconds(start_worker) -> None:
    district = DistrictFactory.create()
    targeted = NoticeFactory.create()
    targeted.areas.add(district)
    for_everyone = NoticeFactory.create()
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places", "interests")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    feeds_rescore(id_range=(resident.pk, resident.pk))
    before = stored_feed(resident_id=resident.pk)
    assert {item.notice_id for item in before} == {targeted.pk, for_everyone.pk}
    assert any("area" in item.reason_codes for item in before)
    start_worker()

    narrowed = time.monotonic()
    withdraw(resident, category="places")

    wait_for(
        lambda: (
            [item.notice_id for item in stored_feed(resident_id=resident.pk)] == [for_everyone.pk]
        ),
        timeout=5,
        what="the rescored feed",
    )
    assert time.monotonic() - narrowed < 5
    assert not any("area" in item.reason_codes for item in stored_feed(resident_id=resident.pk))
