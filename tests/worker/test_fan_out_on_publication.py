"""A real worker puts a newly published notice into the feeds of the residents it concerns:
staff publish, the worker announces the change, fans the notice out by id range, and the
resident's feed shows it with its reason; a resident of another area does not get it."""

from __future__ import annotations

import pytest

from portal.notices.services import notice_emergency_publish
from portal.residents import services as profile_services
from recommendations.selectors import stored_feed
from recommendations.services import feeds_rescore
from tests.factories import DistrictFactory, NoticeFactory, StaffFactory, UserFactory
from tests.helpers import grant
from tests.notices.conftest import Targeting, written
from tests.worker.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def resident_of(district):
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    return resident


def test_a_published_warning_enters_the_feed_of_its_areas_resident(start_worker) -> None:
    here, elsewhere = DistrictFactory.create(), DistrictFactory.create()
    neighbour, stranger = resident_of(here), resident_of(elsewhere)
    older = NoticeFactory.create()
    feeds_rescore(id_range=(neighbour.pk, stranger.pk))
    officer = StaffFactory.create(roles=["disaster_officer"])
    warning = written(
        officer,
        category="disaster",
        urgency="warning",
        title_ja="大雨警報",
        department_code="",
        targeting=Targeting(area_codes=(here.code,)),
    )
    start_worker()

    notice_emergency_publish(officer=officer, notice_id=warning.pk)

    wait_for(
        lambda: (
            [item.notice_id for item in stored_feed(resident_id=neighbour.pk)]
            == [warning.pk, older.pk]
        ),
        timeout=20,
        what="the warning in the neighbour's feed",
    )
    assert "area" in stored_feed(resident_id=neighbour.pk)[0].reason_codes
    assert [item.notice_id for item in stored_feed(resident_id=stranger.pk)] == [older.pk]
