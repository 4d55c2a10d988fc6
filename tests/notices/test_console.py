"""The staff console for notices, through HTTP: each test one behaviour of a page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.models import InterestTag
from portal.notices.models import Attachment, Department, Notice, Status
from portal.notices.services import (
    notice_approve,
    notice_emergency_publish,
    notice_submit,
    notice_update,
)
from tests.factories import DistrictFactory, StaffFactory
from tests.helpers import log_in_with_mfa, with_totp
from tests.notices.conftest import draft, written

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_pages")]

EDITOR_POST = {
    "action": "save",
    "category": "city_news",
    "urgency": "information",
    "title_ja": "除雪のお知らせ",
    "body_ja": "今夜から**除雪**を行います。",
    "department": "road-maintenance",
    "is_public": "on",
}


def logged_in(client: Any, user: Any) -> Any:
    log_in_with_mfa(client, with_totp(user))
    return client


def test_the_editor_creates_a_draft(client, publisher) -> None:
    response = logged_in(client, publisher).post(reverse("notices_staff:new"), EDITOR_POST)

    notice = Notice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("notices_staff:edit", args=[notice.pk])
    assert (notice.status, notice.title_ja) == (Status.DRAFT, "除雪のお知らせ")
    assert notice.department == Department.objects.get(code="road-maintenance")


def test_a_refused_draft_shows_why_and_stores_nothing(client, publisher) -> None:
    response = logged_in(client, publisher).post(
        reverse("notices_staff:new"),
        {**EDITOR_POST, "body_ja": "<script>alert(1)</script>"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="error-summary"' in page
    assert "HTML is not allowed" in page
    assert not Notice.objects.exists()


def test_preview_without_javascript_re_renders_the_editor_and_saves_nothing(
    client, publisher
) -> None:
    response = logged_in(client, publisher).post(
        reverse("notices_staff:new"), {**EDITOR_POST, "action": "preview"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "<strong>除雪</strong>" in page
    assert 'name="title_ja"' in page
    assert not Notice.objects.exists()


def test_preview_for_htmx_answers_only_the_preview_region(client, publisher) -> None:
    response = logged_in(client, publisher).post(
        reverse("notices_staff:preview"), EDITOR_POST, headers={"HX-Request": "true"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.strip().startswith('<section id="notice-preview"')
    assert "<strong>除雪</strong>" in page
    assert "<html" not in page


def test_a_publisher_cannot_open_another_departments_notice(client, publisher) -> None:
    other = StaffFactory.create(roles=["publisher"])
    Department.objects.create(code="parks", name_ja="公園緑地課").members.add(other)
    notice = written(other, department_code="parks")

    response = logged_in(client, publisher).get(reverse("notices_staff:edit", args=[notice.pk]))

    assert response.status_code == 403


def test_an_approver_approves_from_the_queue(client, publisher, approver) -> None:
    notice = written(publisher)
    notice_submit(author=publisher, notice_id=notice.pk)
    logged_in(client, approver)
    assert notice.title_ja in client.get(reverse("notices_staff:review")).content.decode()

    response = client.post(reverse("notices_staff:approve", args=[notice.pk]), {"back": "review"})

    assert response["Location"] == reverse("notices_staff:review")
    notice.refresh_from_db()
    assert notice.status == Status.PUBLISHED


def test_an_approver_sends_back_with_a_comment_the_author_reads(
    client, publisher, approver
) -> None:
    notice = written(publisher)
    notice_submit(author=publisher, notice_id=notice.pk)
    logged_in(client, approver).post(
        reverse("notices_staff:send_back", args=[notice.pk]),
        {"comment": "日付を確認してください", "back": "review"},
    )
    notice.refresh_from_db()
    assert notice.status == Status.DRAFT

    client.logout()
    page = logged_in(client, publisher).get(reverse("notices_staff:edit", args=[notice.pk]))

    assert "日付を確認してください" in page.content.decode()


def test_sending_back_without_a_comment_changes_nothing(client, publisher, approver) -> None:
    notice = written(publisher)
    notice_submit(author=publisher, notice_id=notice.pk)

    logged_in(client, approver).post(
        reverse("notices_staff:send_back", args=[notice.pk]), {"comment": " "}
    )

    notice.refresh_from_db()
    assert notice.status == Status.IN_REVIEW


def test_a_disaster_officer_publishes_a_warning_at_once(client, disaster_officer) -> None:
    notice = written(disaster_officer, category="disaster", urgency="warning", department_code="")
    logged_in(client, disaster_officer)
    page = client.get(reverse("notices_staff:edit", args=[notice.pk])).content.decode()
    assert reverse("notices_staff:emergency_publish", args=[notice.pk]) in page

    client.post(reverse("notices_staff:emergency_publish", args=[notice.pk]))

    notice.refresh_from_db()
    assert (notice.status, notice.needs_second_look) == (Status.PUBLISHED, True)


def test_a_transition_the_lifecycle_refuses_is_explained(client, publisher) -> None:
    notice = written(publisher)
    notice_submit(author=publisher, notice_id=notice.pk)

    response = logged_in(client, publisher).post(
        reverse("notices_staff:submit", args=[notice.pk]), follow=True
    )

    assert "This cannot be done to a notice that is" in response.content.decode()


def test_the_history_shows_what_changed_between_versions(client, publisher) -> None:
    notice = written(publisher)
    notice_update(
        editor=publisher, notice_id=notice.pk, draft=draft(title_ja="道路工事<中止>のお知らせ")
    )

    page = (
        logged_in(client, publisher)
        .get(reverse("notices_staff:history", args=[notice.pk]))
        .content.decode()
    )

    assert "<del>道路工事のお知らせ</del>" in page
    assert "<ins>道路工事&lt;中止&gt;のお知らせ</ins>" in page


def test_an_executable_named_pdf_is_not_attached(client, publisher, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    notice = written(publisher)
    upload = SimpleUploadedFile(
        "letter.pdf", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/pdf"
    )

    response = logged_in(client, publisher).post(
        reverse("notices_staff:attach", args=[notice.pk]), {"file": upload}
    )

    assert response.status_code == 400
    assert "is not a PDF or an image" in response.content.decode()
    assert not Attachment.objects.exists()


def test_the_console_links_publishers_to_their_notices(client, publisher) -> None:
    page = logged_in(client, publisher).get(reverse("staff:console")).content.decode()

    assert reverse("notices_staff:list") in page


def test_the_editor_stores_targeting_and_reads_times_in_japan_time(client, publisher) -> None:
    district = DistrictFactory.create(code="072028-kita")
    InterestTag.objects.get_or_create(code="snow", defaults={"name_ja": "除雪"})
    logged_in(client, publisher)
    page = client.get(reverse("notices_staff:new")).content.decode()
    assert f'value="{district.code}"' in page

    client.post(
        reverse("notices_staff:new"),
        {
            **EDITOR_POST,
            "publish_at": "2030-01-10T09:00",
            "areas": [district.code],
            "age_bands": ["0-9", "60-69"],
            "interests": ["snow"],
        },
    )

    notice = Notice.objects.get()
    assert notice.publish_at == datetime(2030, 1, 10, 0, 0, tzinfo=UTC)
    assert list(notice.areas.values_list("code", flat=True)) == [district.code]
    assert notice.age_bands == ["0-9", "60-69"]
    assert list(notice.interests.values_list("code", flat=True)) == ["snow"]


def test_a_published_notice_is_withdrawn_with_its_reason(client, publisher, approver) -> None:
    notice = written(publisher)
    notice_submit(author=publisher, notice_id=notice.pk)
    notice_approve(approver=approver, notice_id=notice.pk)

    logged_in(client, publisher).post(
        reverse("notices_staff:withdraw", args=[notice.pk]), {"comment": "日付の誤り"}
    )

    notice.refresh_from_db()
    assert notice.status == Status.WITHDRAWN
    assert notice.events.last().comment == "日付の誤り"


def test_the_list_shows_only_the_notices_the_user_may_edit(client, publisher) -> None:
    other = StaffFactory.create(roles=["publisher"])
    Department.objects.create(code="parks", name_ja="公園緑地課").members.add(other)
    written(publisher, title_ja="自分の課のお知らせ")
    written(other, department_code="parks", title_ja="他の課のお知らせ")

    page = logged_in(client, publisher).get(reverse("notices_staff:list")).content.decode()

    assert "自分の課のお知らせ" in page
    assert "他の課のお知らせ" not in page


def test_an_approver_takes_the_second_look_from_its_list(
    client, disaster_officer, approver
) -> None:
    notice = written(disaster_officer, category="disaster", urgency="emergency", department_code="")
    notice_emergency_publish(officer=disaster_officer, notice_id=notice.pk)
    logged_in(client, approver)
    assert notice.title_ja in client.get(reverse("notices_staff:second_look")).content.decode()

    client.post(
        reverse("notices_staff:take_second_look", args=[notice.pk]), {"back": "second_look"}
    )

    notice.refresh_from_db()
    assert notice.needs_second_look is False


def test_a_pdf_is_attached_listed_and_removed(client, publisher, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    notice = written(publisher)
    logged_in(client, publisher)
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    client.post(
        reverse("notices_staff:attach", args=[notice.pk]),
        {"file": SimpleUploadedFile("map.pdf", pdf, content_type="application/pdf")},
    )
    attachment = Attachment.objects.get()
    assert "map.pdf" in client.get(reverse("notices_staff:edit", args=[notice.pk])).content.decode()

    client.post(reverse("notices_staff:detach", args=[attachment.pk]))

    assert not Attachment.objects.exists()


def test_a_refused_area_choice_links_the_error_summary_to_a_box(client, publisher) -> None:
    DistrictFactory.create(code="072028-kita")
    response = logged_in(client, publisher).post(
        reverse("notices_staff:new"), {**EDITOR_POST, "areas": ["nowhere"]}
    )

    page = response.content.decode()
    assert 'href="#id_areas_0"' in page
    assert 'id="id_areas_0"' in page


def test_an_approver_reads_a_draft_as_residents_will_see_it_without_an_editor(
    client, publisher, approver
) -> None:
    notice = written(publisher)

    page = logged_in(client, approver).get(reverse("notices_staff:edit", args=[notice.pk]))

    assert page.status_code == 200
    assert 'name="title_ja"' not in page.content.decode()
    assert "<strong>3月1日</strong>" in page.content.decode()


# ----------------------------------------------------------------------------------------------
# Estimated audience and a school's follow-up
# ----------------------------------------------------------------------------------------------


def test_the_editor_estimates_the_audience_without_javascript(client, publisher) -> None:
    from tests.helpers import log_in_with_mfa, with_totp

    log_in_with_mfa(client, with_totp(publisher))
    response = client.post(
        "/staff/notices/new/",
        {"category": "city_news", "title_ja": "題", "action": "estimate"},
    )
    assert response.status_code == 200
    assert "Estimated audience: fewer than 10 residents" in response.content.decode()
    from portal.notices.models import Notice

    assert not Notice.objects.exists()


def test_the_estimate_answers_htmx_with_the_fragment(client, publisher) -> None:
    from tests.helpers import log_in_with_mfa, with_totp

    log_in_with_mfa(client, with_totp(publisher))
    response = client.post(
        "/staff/notices/estimate/",
        {"category": "city_news", "audience_school_0": "", "audience_grade_0": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.content.decode().startswith('<p class="audience-estimate" role="status">')


def test_a_teacher_sees_who_has_not_confirmed_their_letter(client, teacher, school) -> None:
    from portal.notices.services import notice_approve
    from portal.residents import services as profile_services
    from tests.factories import UserFactory
    from tests.helpers import grant, log_in_with_mfa, with_totp
    from tests.notices.conftest import written

    parent = UserFactory.create()
    grant(parent, "school_letters", "household")
    profile_services.child_add(resident_id=parent.pk, school_code=school.code, grade=1)
    letter = written(
        teacher,
        category="school",
        school_code=school.code,
        department_code="",
        is_public=False,
        requires_acknowledgement=True,
    )
    notice_approve(approver=teacher, notice_id=letter.pk)
    log_in_with_mfa(client, with_totp(teacher))

    html = client.get(f"/staff/notices/{letter.pk}/follow-up/").content.decode()

    assert parent.email in html
    assert "fewer than 10 residents" in html


def test_a_teacher_of_another_school_is_refused_the_follow_up(client, teacher, school) -> None:
    from portal.notices.models import SchoolStaffMembership
    from portal.notices.services import notice_approve
    from tests.factories import SchoolFactory, StaffFactory
    from tests.helpers import log_in_with_mfa, with_totp
    from tests.notices.conftest import written

    letter = written(
        teacher,
        category="school",
        school_code=school.code,
        department_code="",
        is_public=False,
        requires_acknowledgement=True,
    )
    notice_approve(approver=teacher, notice_id=letter.pk)
    other = StaffFactory.create(roles=["school_staff"])
    SchoolStaffMembership.objects.create(user=other, school=SchoolFactory.create())
    log_in_with_mfa(client, with_totp(other))

    assert client.get(f"/staff/notices/{letter.pk}/follow-up/").status_code in (403, 404)


def test_editing_a_notice_with_many_school_audiences_keeps_every_one(
    client, teacher, school
) -> None:
    from portal.notices.models import Notice
    from tests.helpers import log_in_with_mfa, with_totp
    from tests.notices.conftest import Targeting, written

    audiences = [(school.code, grade) for grade in (1, 2, 3, 4)]
    letter = written(
        teacher,
        category="school",
        school_code=school.code,
        department_code="",
        is_public=False,
        targeting=Targeting(school_audiences=audiences),
    )
    log_in_with_mfa(client, with_totp(teacher))
    form = client.get(f"/staff/notices/{letter.pk}/").context["form"]
    data = {
        name: value
        for name, value in {**form.initial, "title_ja": "書き直し"}.items()
        if value not in (None, False)
    }
    data["publish_at"] = ""
    data["expires_at"] = ""

    response = client.post(f"/staff/notices/{letter.pk}/", {**data, "action": "save"})

    assert response.status_code == 302, response.content.decode()[:2000]
    notice = Notice.objects.get(pk=letter.pk)
    assert notice.title_ja == "書き直し"
    assert notice.school_audiences.count() == 4


def test_a_cancellation_names_the_notice_it_cancels(client, publisher, approver) -> None:
    from portal.notices.models import Notice
    from portal.notices.services import notice_approve, notice_submit
    from tests.helpers import log_in_with_mfa, with_totp
    from tests.notices.conftest import written

    event = written(publisher, category="events", title_ja="冬まつり")
    notice_submit(author=publisher, notice_id=event.pk)
    notice_approve(approver=approver, notice_id=event.pk)
    log_in_with_mfa(client, with_totp(publisher))

    response = client.post(
        "/staff/notices/new/",
        {
            "category": "events",
            "urgency": "information",
            "title_ja": "冬まつりは中止します",
            "department": "road-maintenance",
            "supersedes": event.pk,
            "is_cancellation": "on",
            "is_public": "on",
            "action": "save",
        },
    )

    assert response.status_code == 302
    cancellation = Notice.objects.get(title_ja="冬まつりは中止します")
    assert cancellation.is_cancellation
    assert cancellation.supersedes == event


def test_the_approver_sees_the_targeting_and_times_of_what_they_review(
    client, publisher, approver
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from portal.notices.services import notice_submit
    from tests.factories import DistrictFactory
    from tests.helpers import log_in_with_mfa, with_totp
    from tests.notices.conftest import Targeting, written

    DistrictFactory.create(code="072028-kita", name_en="Kita")
    later = timezone.now() + timedelta(days=2)
    notice = written(
        publisher,
        publish_at=later,
        targeting=Targeting(area_codes=["072028-kita"], age_bands=["60-69"]),
    )
    notice_submit(author=publisher, notice_id=notice.pk)
    log_in_with_mfa(client, with_totp(approver))

    html = client.get(f"/staff/notices/{notice.pk}/").content.decode()

    assert "What is reviewed" in html
    assert "Kita" in html
    assert "60-69" in html
    assert timezone.localtime(later).strftime("%Y-%m-%d %H:%M") in html
