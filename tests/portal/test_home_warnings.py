"""The home page shows the warnings in force: those for everyone, and those for the areas a
resident shares for disaster warnings (a district's warning reaches its neighbourhoods)."""

from __future__ import annotations

import pytest

from portal.notices.services import notice_emergency_publish
from portal.residents import services as profile_services
from tests.factories import DistrictFactory, StaffFactory, UserFactory
from tests.helpers import grant
from tests.notices.conftest import Targeting, written

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_pages")]


def warning(*, title: str = "大雪警報", areas: tuple[str, ...] = (), urgency: str = "warning"):
    officer = StaffFactory.create(roles=["disaster_officer"])
    notice = written(
        officer,
        category="disaster",
        urgency=urgency,
        title_ja=title,
        department_code="",
        targeting=Targeting(area_codes=areas),
    )
    notice_emergency_publish(officer=officer, notice_id=notice.pk)
    return notice


def resident_living_in(area_code: str, *, shares: bool = True):
    resident = UserFactory.create()
    if shares:
        grant(resident, "disaster_warnings", "places")
        profile_services.place_add(resident_id=resident.pk, kind="home", area_code=area_code)
    return resident


def test_a_warning_for_everyone_is_on_the_home_page_of_every_visitor(client) -> None:
    warning(title="大雪警報（全域）")
    html = client.get("/").content.decode()
    assert "Warnings in force" in html
    assert "大雪警報（全域）" in html


def test_a_warning_for_a_district_reaches_a_resident_of_its_neighbourhood(client) -> None:
    district = DistrictFactory.create(code="072028-kita")
    neighbourhood = DistrictFactory.create(
        code="072028-kita-1", parent=district, kind="neighbourhood"
    )
    warning(title="河川の氾濫警戒", areas=(district.code,))
    client.force_login(resident_living_in(neighbourhood.code))
    assert "河川の氾濫警戒" in client.get("/").content.decode()


def test_a_warning_for_another_area_is_not_shown(client) -> None:
    DistrictFactory.create(code="072028-minami")
    home = DistrictFactory.create(code="072028-kita")
    warning(title="南地区の警報", areas=("072028-minami",))
    client.force_login(resident_living_in(home.code))
    assert "南地区の警報" not in client.get("/").content.decode()


def test_a_resident_who_does_not_share_their_places_sees_only_warnings_for_everyone(
    client,
) -> None:
    district = DistrictFactory.create(code="072028-kita")
    warning(title="北地区の警報", areas=(district.code,))
    client.force_login(resident_living_in(district.code, shares=False))
    assert "北地区の警報" not in client.get("/").content.decode()


def test_an_advisory_is_not_a_warning_in_force(client) -> None:
    officer = StaffFactory.create(roles=["disaster_officer"])
    written(officer, category="disaster", urgency="advisory", title_ja="注意報", department_code="")
    assert "Warnings in force" not in client.get("/").content.decode()
