"""Bad input is refused with a clear message and changes nothing; each author edits only what
is theirs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portal.notices.models import Notice, NoticeEvent
from portal.notices.services import notice_approve, notice_create, notice_update
from tests.factories import DistrictFactory, SchoolFactory, StaffFactory
from tests.notices.conftest import Targeting, draft, written

pytestmark = pytest.mark.django_db


def refused(author, **overrides) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        notice_create(author=author, draft=draft(**overrides))
    assert not Notice.objects.exists()
    return caught.value.message_dict


def test_targeting_is_stored_as_data(publisher, school) -> None:
    district = DistrictFactory.create(code="072028-kita")
    notice = written(
        publisher,
        targeting=Targeting(
            area_codes=["072028-kita"],
            age_bands=["60-69", "70-79"],
            interest_codes=[],
            school_audiences=[("tsuruga-elementary", 3)],
        ),
    )
    assert list(notice.areas.all()) == [district]
    assert notice.age_bands == ["60-69", "70-79"]
    assert [(a.school, a.grade) for a in notice.school_audiences.all()] == [(school, 3)]
    assert notice.is_targeted


def test_no_targeting_means_everyone(publisher) -> None:
    assert not written(publisher).is_targeted


def test_an_unknown_area_is_refused_by_name(publisher) -> None:
    errors = refused(publisher, targeting=Targeting(area_codes=["atlantis"]))
    assert errors["areas"] == ["Unknown area: atlantis"]


def test_an_unknown_school_is_refused(publisher) -> None:
    errors = refused(publisher, targeting=Targeting(school_audiences=[("nowhere", None)]))
    assert errors["schools"] == ["Unknown school: nowhere"]


def test_an_unknown_age_band_is_refused(publisher) -> None:
    assert "age_bands" in refused(publisher, targeting=Targeting(age_bands=["young"]))


def test_expiry_before_publication_is_refused(publisher) -> None:
    start = timezone.now() + timedelta(days=2)
    errors = refused(publisher, publish_at=start, expires_at=start - timedelta(hours=1))
    assert errors["expires_at"] == ["A notice must expire after it is published."]


def test_markdown_with_a_script_is_refused(publisher) -> None:
    errors = refused(publisher, body_ja="お知らせ<script>alert(1)</script>")
    assert "HTML is not allowed" in errors["body_ja"][0]


def test_markdown_with_an_event_handler_is_refused(publisher) -> None:
    assert "body_en" in refused(publisher, body_en='<img src="x" onerror="alert(1)">')


def test_a_javascript_link_is_refused(publisher) -> None:
    errors = refused(publisher, body_ja="[ここ](javascript:alert(1))")
    assert "Links may only lead to" in errors["body_ja"][0]


def test_a_notice_needs_a_japanese_title(publisher) -> None:
    assert "title_ja" in refused(publisher, title_ja=" ")


def test_a_publisher_cannot_write_for_another_department(publisher) -> None:
    from portal.notices.models import Department

    Department.objects.create(code="tourism", name_ja="観光課")
    with pytest.raises(PermissionDenied):
        notice_create(author=publisher, draft=draft(department_code="tourism"))
    assert not Notice.objects.exists()


def test_a_publisher_cannot_edit_another_departments_notice(publisher, department) -> None:
    notice = written(publisher)
    outsider = StaffFactory.create(roles=["publisher"])
    with pytest.raises(PermissionDenied):
        notice_update(editor=outsider, notice_id=notice.pk, draft=draft(title_ja="乗っ取り"))
    assert Notice.objects.get(pk=notice.pk).title_ja == "道路工事のお知らせ"


def test_a_publisher_cannot_move_a_notice_to_a_department_of_others(publisher, department) -> None:
    from portal.notices.models import Department

    Department.objects.create(code="tourism", name_ja="観光課")
    notice = written(publisher)
    with pytest.raises(PermissionDenied):
        notice_update(editor=publisher, notice_id=notice.pk, draft=draft(department_code="tourism"))
    assert Notice.objects.get(pk=notice.pk).department == department


def test_school_staff_write_and_schedule_their_schools_letter(teacher, school) -> None:
    letter = written(
        teacher,
        category="school",
        school_code=school.code,
        department_code="",
        is_public=False,
        requires_acknowledgement=True,
        targeting=Targeting(school_audiences=[(school.code, 2)]),
    )
    notice_approve(approver=teacher, notice_id=letter.pk)
    assert Notice.objects.get(pk=letter.pk).status == "published"


def test_school_staff_cannot_write_for_another_school(teacher) -> None:
    other = SchoolFactory.create(code="other-school")
    with pytest.raises(PermissionDenied):
        notice_create(
            author=teacher,
            draft=draft(
                category="school", school_code=other.code, department_code="", is_public=False
            ),
        )


def test_a_school_letter_is_never_public(teacher, school) -> None:
    errors = refused(
        teacher, category="school", school_code=school.code, department_code="", is_public=True
    )
    assert "is_public" in errors


def test_editing_records_the_notice_as_it_became(publisher) -> None:
    notice = written(publisher)
    notice_update(editor=publisher, notice_id=notice.pk, draft=draft(title_ja="新しい題"))
    event = NoticeEvent.objects.filter(notice=notice).last()
    assert event is not None
    assert event.action == "edited"
    assert event.snapshot["title_ja"] == "新しい題"
    assert event.actor_email == publisher.email


def test_the_youngest_age_band_is_accepted(publisher) -> None:
    """consent.policy.age_band calls children under ten "0-9"."""
    notice = written(publisher, targeting=Targeting(age_bands=["0-9", "90-99"]))
    assert notice.age_bands == ["0-9", "90-99"]
