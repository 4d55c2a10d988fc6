"""Who may read the consent reports: consent officers and administrators, by their roles."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from portal.staff.roles import Role
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

REPORTS = "consent.view_consent_reports"


def member_of(role: Role):
    staff = StaffFactory.create()
    staff.groups.add(Group.objects.get(name=role.value))
    return staff


@pytest.mark.parametrize("role", [Role.CONSENT_OFFICER, Role.ADMINISTRATOR])
def test_consent_officers_and_administrators_may_read_the_reports(role: Role) -> None:
    assert member_of(role).has_perm(REPORTS)


@pytest.mark.parametrize(
    "role",
    [
        Role.PUBLISHER,
        Role.APPROVER,
        Role.COUNTER_CLERK,
        Role.DISASTER_OFFICER,
        Role.SCHOOL_STAFF,
    ],
)
def test_no_other_role_may_read_the_reports(role: Role) -> None:
    assert not member_of(role).has_perm(REPORTS)
