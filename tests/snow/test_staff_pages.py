"""/staff/snow/vehicles/: a disaster officer registers plows and issues and revokes their
tokens; a token is shown once, in the answer to the request that made it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from portal.snow.models import Vehicle, VehicleToken
from portal.snow.selectors import vehicle_for_token
from portal.snow.services import token_issue, vehicle_add
from tests.factories import StaffFactory, UserFactory
from tests.helpers import log_in_with_mfa, with_totp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_pages")]


@pytest.fixture
def officer(client: Any) -> Any:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["disaster_officer"])))
    return client


def shown_token(page: str) -> str:
    found = re.search(r'<code id="new-token">(plow_[^<]+)</code>', page)
    assert found, "no token on the page"
    return found.group(1)


def test_registering_a_vehicle_shows_its_token_once_and_the_token_works(officer) -> None:
    page = officer.post(
        reverse("snow_staff:vehicles"),
        {"name": "除雪5号", "operator": "会津建設", "kind": "plow"},
    )

    token = shown_token(page.text)
    found = vehicle_for_token(token)
    assert found is not None and found[0].name == "除雪5号"
    assert page["Cache-Control"].startswith("max-age=0")
    again = officer.get(reverse("snow_staff:vehicle", args=[found[0].pk]))
    assert token not in again.text


def test_a_second_vehicle_of_the_same_name_is_refused(officer) -> None:
    vehicle_add(name="除雪5号")

    page = officer.post(reverse("snow_staff:vehicles"), {"name": "除雪5号", "kind": "plow"})

    assert page.status_code == 400
    assert "registered already" in page.text
    assert Vehicle.objects.count() == 1


def test_a_new_token_can_be_issued_and_an_old_one_revoked(officer) -> None:
    vehicle = vehicle_add(name="除雪6号")
    old = token_issue(vehicle_id=vehicle.pk)

    page = officer.post(reverse("snow_staff:token_issue", args=[vehicle.pk]))
    new = shown_token(page.text)
    old_row = VehicleToken.objects.get(prefix=old[:11])
    officer.post(reverse("snow_staff:token_revoke", args=[old_row.pk]))

    assert vehicle_for_token(old) is None
    assert vehicle_for_token(new) is not None


def test_residents_and_publishers_may_not_manage_vehicles(client) -> None:
    client.force_login(UserFactory.create())
    assert client.get(reverse("snow_staff:vehicles")).status_code == 403

    client.logout()
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["publisher"])))
    assert client.get(reverse("snow_staff:vehicles")).status_code == 403


@pytest.mark.django_db
def test_a_vehicle_name_taken_between_check_and_insert_is_refused_not_crashed_on() -> None:
    from portal.snow.services import VehicleNameTaken, vehicle_add

    vehicle_add(name="除雪9号")

    with pytest.raises(VehicleNameTaken):
        vehicle_add(name="除雪9号")
