"""What an attack on the notices found, each refused now (review of issue 8)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portal.notices.models import Notice
from portal.notices.selectors import urgent_notices
from portal.notices.services import (
    notice_approve,
    notice_create,
    notice_emergency_publish,
    notice_submit,
)
from tests.factories import DistrictFactory, SchoolFactory, StaffFactory
from tests.helpers import log_in_with_mfa, with_totp
from tests.notices.conftest import Targeting, draft, written

pytestmark = pytest.mark.django_db


def published(author, approver, **overrides) -> Notice:
    notice = written(author, **overrides)
    notice_submit(author=author, notice_id=notice.pk)
    return notice_approve(approver=approver, notice_id=notice.pk)


def test_a_schools_letter_cannot_reach_another_schools_families(teacher, school) -> None:
    other = SchoolFactory.create(code="other-school")
    with pytest.raises(ValidationError) as refused:
        written(
            teacher,
            category="school",
            school_code=school.code,
            department_code="",
            is_public=False,
            targeting=Targeting(school_audiences=[(other.code, 3)]),
        )
    assert "its own families only" in refused.value.message_dict["schools"][0]
    assert not Notice.objects.exists()


def test_nobody_supersedes_a_notice_they_may_not_edit(publisher, approver, teacher, school) -> None:
    city_notice = published(publisher, approver)
    with pytest.raises(ValidationError) as refused:
        written(
            teacher,
            category="school",
            school_code=school.code,
            department_code="",
            is_public=False,
            supersedes_id=city_notice.pk,
        )
    assert refused.value.message_dict["supersedes"] == [
        "No published or scheduled notice you may edit has this number."
    ]


def test_the_supersede_field_answers_the_same_for_an_unknown_number(publisher) -> None:
    with pytest.raises(ValidationError) as refused:
        written(publisher, supersedes_id=999_999)
    assert refused.value.message_dict["supersedes"] == [
        "No published or scheduled notice you may edit has this number."
    ]


def test_a_disaster_officer_cannot_publish_another_departments_notice_without_review(
    publisher, disaster_officer
) -> None:
    notice = written(publisher, urgency="warning")
    with pytest.raises(PermissionDenied):
        notice_emergency_publish(officer=disaster_officer, notice_id=notice.pk)
    assert Notice.objects.get(pk=notice.pk).status == "draft"


def test_a_publisher_without_a_department_is_told_to_choose_one(publisher) -> None:
    with pytest.raises(ValidationError) as refused:
        notice_create(author=publisher, draft=draft(department_code=""))
    assert refused.value.message_dict["department"] == ["Choose the department it comes from."]


def test_a_warning_also_aimed_by_age_is_not_on_the_home_page(disaster_officer) -> None:
    district = DistrictFactory.create(code="072028-kita")
    notice = written(
        disaster_officer,
        category="disaster",
        urgency="warning",
        department_code="",
        is_public=False,
        targeting=Targeting(area_codes=[district.code], age_bands=["80-89"]),
    )
    notice_emergency_publish(officer=disaster_officer, notice_id=notice.pk)
    assert list(urgent_notices(area_ids=[district.pk])) == []


def test_staff_who_write_no_notices_cannot_estimate_from_the_editor(client) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["consent_officer"])))
    response = client.post("/staff/notices/new/", {"category": "city_news", "action": "estimate"})
    assert response.status_code == 403


def test_a_draft_letter_has_no_follow_up(client, teacher, school) -> None:
    letter = written(
        teacher,
        category="school",
        school_code=school.code,
        department_code="",
        is_public=False,
        requires_acknowledgement=True,
    )
    log_in_with_mfa(client, with_totp(teacher))
    assert client.get(f"/staff/notices/{letter.pk}/follow-up/").status_code == 404
