"""The navigation's link to the staff console: shown exactly to those who hold its permission
(the console itself is behind the staff gate either way)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission

from portal.staff.gate import CONSOLE_PERMISSION, shows_staff_console_link
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def console_permission() -> Permission:
    app_label, codename = CONSOLE_PERMISSION.split(".")
    return Permission.objects.get(codename=codename, content_type__app_label=app_label)


def test_a_resident_and_a_visitor_get_no_link() -> None:
    assert not shows_staff_console_link(UserFactory.create())
    assert not shows_staff_console_link(AnonymousUser())


def test_a_role_holding_the_permission_gets_the_link_as_django_would_say() -> None:
    clerk = UserFactory.create()
    role = Group.objects.create(name="test role")
    role.permissions.add(console_permission())
    clerk.groups.add(role)

    assert shows_staff_console_link(clerk)
    assert clerk.has_perm(CONSOLE_PERMISSION)


def test_the_permission_held_by_the_account_itself_gets_the_link() -> None:
    clerk = UserFactory.create()
    clerk.user_permissions.add(console_permission())

    assert shows_staff_console_link(clerk)


def test_a_role_without_the_permission_gets_no_link() -> None:
    other = UserFactory.create()
    other.groups.add(Group.objects.create(name="unrelated role"))

    assert not shows_staff_console_link(other)


def test_a_deactivated_account_gets_no_link_whatever_it_holds() -> None:
    gone = UserFactory.create(is_active=False)
    gone.user_permissions.add(console_permission())

    assert not shows_staff_console_link(gone)


def test_a_superuser_gets_the_link() -> None:
    assert shows_staff_console_link(UserFactory.create(is_superuser=True))


def test_the_check_takes_one_query(django_assert_num_queries) -> None:
    resident = UserFactory.create()
    with django_assert_num_queries(1):
        shows_staff_console_link(resident)
