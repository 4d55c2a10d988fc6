"""A school sees how many families a letter reached and confirmed (rounded), and which have not
confirmed, only for parents whose consent names the board of education."""

from __future__ import annotations

import pytest

from consent.models import DataUseEvent
from portal.notices.follow_up import letter_follow_up
from portal.notices.models import Acknowledgement
from portal.notices.services import notice_approve
from portal.residents import services as profile_services
from tests.factories import UserFactory
from tests.helpers import grant
from tests.notices.conftest import Targeting, written

pytestmark = pytest.mark.django_db


def parent_of(school, grade: int, *, shares: bool = True):
    resident = UserFactory.create()
    if shares:
        grant(resident, "school_letters", "household")
        profile_services.child_add(resident_id=resident.pk, school_code=school.code, grade=grade)
    return resident


@pytest.fixture
def letter(teacher, school):
    notice = written(
        teacher,
        category="school",
        title_ja="懇談会の出欠",
        school_code=school.code,
        department_code="",
        is_public=False,
        requires_acknowledgement=True,
        targeting=Targeting(school_audiences=[(school.code, 3)]),
    )
    return notice_approve(approver=teacher, notice_id=notice.pk)


def test_the_households_that_have_not_confirmed_are_listed_with_their_grade(
    letter, teacher, school
) -> None:
    confirmed, waiting = parent_of(school, 3), parent_of(school, 3)
    Acknowledgement.objects.create(notice=letter, resident=confirmed)

    follow_up = letter_follow_up(letter=letter, staff=teacher)

    assert [(h.email, h.grades) for h in follow_up.not_confirmed] == [(waiting.email, (3,))]


def test_families_of_other_grades_are_not_reached(letter, teacher, school) -> None:
    parent_of(school, 5)
    assert letter_follow_up(letter=letter, staff=teacher).not_confirmed == ()


def test_counts_are_rounded_so_a_small_class_is_fewer_than_10(letter, teacher, school) -> None:
    for _ in range(3):
        parent_of(school, 3)
    follow_up = letter_follow_up(letter=letter, staff=teacher)
    assert follow_up.reached.rounded is None
    assert follow_up.reached.display == "fewer than 10 residents"


def test_a_parent_who_does_not_share_their_household_is_neither_counted_nor_listed(
    letter, teacher, school
) -> None:
    outsider = parent_of(school, 3, shares=False)
    follow_up = letter_follow_up(letter=letter, staff=teacher)
    assert outsider.email not in [h.email for h in follow_up.not_confirmed]


def test_each_read_is_in_the_parents_data_use_log_for_the_board(letter, teacher, school) -> None:
    parent = parent_of(school, 3)
    letter_follow_up(letter=letter, staff=teacher)
    event = DataUseEvent.objects.filter(resident_id=parent.pk, reader_kind="staff").get()
    assert event.recipient_code == "board_of_education"
    assert event.staff_account_id == teacher.pk
