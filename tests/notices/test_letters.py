"""A parent gets the letters meant for their children (read through the consent gate), opens
their attachments, and confirms reading a letter that asks for it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.demo.notices import demo_pdf
from portal.notices.models import Acknowledgement
from portal.notices.services import notice_approve, notice_attach
from portal.residents import services as profile_services
from tests.factories import UserFactory
from tests.helpers import grant, withdraw
from tests.notices.conftest import Targeting, written

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_pages")]


@pytest.fixture
def parent(school):
    resident = UserFactory.create()
    grant(resident, "school_letters", "household")
    profile_services.child_add(resident_id=resident.pk, school_code=school.code, grade=2)
    return resident


def letter(teacher, school, *, grade=2, acknowledge=True, title="遠足のお知らせ"):
    notice = written(
        teacher,
        category="school",
        title_ja=title,
        school_code=school.code,
        department_code="",
        is_public=False,
        requires_acknowledgement=acknowledge,
        targeting=Targeting(school_audiences=[(school.code, grade)]),
    )
    notice_approve(approver=teacher, notice_id=notice.pk)
    return notice


def test_a_parent_sees_the_letter_for_their_childs_grade(client, parent, teacher, school) -> None:
    letter(teacher, school)
    client.force_login(parent)
    assert "遠足のお知らせ" in client.get("/letters/").content.decode()


def test_a_letter_for_another_grade_is_neither_listed_nor_found(
    client, parent, teacher, school
) -> None:
    other = letter(teacher, school, grade=5, title="修学旅行")
    client.force_login(parent)
    assert "修学旅行" not in client.get("/letters/").content.decode()
    assert client.get(f"/letters/{other.pk}/").status_code == 404


def test_a_letter_for_the_whole_school_reaches_every_grade(client, parent, teacher, school) -> None:
    notice = written(
        teacher,
        category="school",
        title_ja="学校だより",
        school_code=school.code,
        department_code="",
        is_public=False,
    )
    notice_approve(approver=teacher, notice_id=notice.pk)
    client.force_login(parent)
    assert "学校だより" in client.get("/letters/").content.decode()


def test_a_parent_who_stopped_sharing_their_household_gets_no_letters(
    client, parent, teacher, school
) -> None:
    notice = letter(teacher, school)
    withdraw(parent, purpose="school_letters")
    client.force_login(parent)
    assert "遠足のお知らせ" not in client.get("/letters/").content.decode()
    assert client.get(f"/letters/{notice.pk}/").status_code == 404


def test_confirming_a_letter_records_it_once(client, parent, teacher, school) -> None:
    notice = letter(teacher, school)
    client.force_login(parent)
    client.post(f"/letters/{notice.pk}/acknowledge/")
    response = client.post(f"/letters/{notice.pk}/acknowledge/", follow=True)

    assert Acknowledgement.objects.filter(notice=notice, resident=parent).count() == 1
    assert "You confirmed reading it" in response.content.decode()


def test_a_letter_that_does_not_ask_cannot_be_confirmed(client, parent, teacher, school) -> None:
    notice = letter(teacher, school, acknowledge=False)
    client.force_login(parent)
    response = client.post(f"/letters/{notice.pk}/acknowledge/", follow=True)
    assert "does not ask to be confirmed" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_the_letters_pdf_downloads_as_an_attachment(
    client, parent, teacher, school, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    notice = written(
        teacher,
        category="school",
        title_ja="おたより",
        school_code=school.code,
        department_code="",
        is_public=False,
    )
    pdf = SimpleUploadedFile("おたより.pdf", demo_pdf(), content_type="application/pdf")
    attachment = notice_attach(editor=teacher, notice_id=notice.pk, upload=pdf)
    notice_approve(approver=teacher, notice_id=notice.pk)
    client.force_login(parent)

    response = client.get(f"/letters/{notice.pk}/attachments/{attachment.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_the_page_asks_anonymous_visitors_to_log_in(client) -> None:
    assert client.get("/letters/").status_code == 302
