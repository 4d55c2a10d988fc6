"""Staff of the notices tests: a publisher of a department, approvers, a disaster officer and a
member of a school's staff, each with the role the console gives them."""

from __future__ import annotations

from typing import Any

import pytest

from portal.models import User
from portal.notices.models import Department, SchoolStaffMembership
from portal.notices.services import NoticeDraft, Targeting, notice_create
from tests.factories import SchoolFactory, StaffFactory


@pytest.fixture
def department() -> Department:
    return Department.objects.create(code="road-maintenance", name_ja="道路維持課", name_en="Roads")


@pytest.fixture
def publisher(department: Department) -> User:
    user = StaffFactory.create(roles=["publisher"])
    department.members.add(user)
    return user


@pytest.fixture
def approver() -> User:
    return StaffFactory.create(roles=["approver"])


@pytest.fixture
def disaster_officer() -> User:
    return StaffFactory.create(roles=["disaster_officer"])


@pytest.fixture
def school() -> Any:
    return SchoolFactory.create(code="tsuruga-elementary")


@pytest.fixture
def teacher(school: Any) -> User:
    user = StaffFactory.create(roles=["school_staff"])
    SchoolStaffMembership.objects.create(user=user, school=school)
    return user


def draft(**overrides: Any) -> NoticeDraft:
    values: dict[str, Any] = {
        "category": "city_news",
        "title_ja": "道路工事のお知らせ",
        "body_ja": "**3月1日**から工事を行います。",
        "department_code": "road-maintenance",
    }
    values.update(overrides)
    return NoticeDraft(**values)


def written(author: User, **overrides: Any) -> Any:
    return notice_create(author=author, draft=draft(**overrides))


__all__ = ["Targeting", "draft", "written"]
