"""Administrators manage departments and school staff memberships in the admin, choosing among
staff accounts only."""

from __future__ import annotations

import pytest

from portal.notices.models import Department
from tests.factories import StaffFactory, UserFactory
from tests.helpers import log_in_with_mfa, with_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(client):
    user = with_totp(StaffFactory.create(roles=["administrator"]))
    log_in_with_mfa(client, user)
    return user


def test_an_administrator_adds_a_department(client, administrator) -> None:
    publisher = StaffFactory.create(roles=["publisher"])
    response = client.post(
        "/admin/notices/department/add/",
        {"code": "tourism", "name_ja": "観光課", "name_en": "Tourism", "members": [publisher.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:1000]
    assert list(Department.objects.get(code="tourism").members.all()) == [publisher]


def test_the_member_choice_lists_no_resident(client, administrator) -> None:
    resident = UserFactory.create(email="private-resident@example.jp")
    html = client.get("/admin/notices/department/add/").content.decode()
    assert resident.email not in html
    assert administrator.email in html


def test_a_publisher_cannot_manage_departments(client) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["publisher"])))
    assert client.get("/admin/notices/department/add/").status_code == 403
