"""Anyone sees the published notices for everyone (and public notices targeted at an area they
filter by) in the list, on their own page, as attachments and in the Atom feed; nothing else is
listed or found."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from portal.demo.notices import demo_pdf
from portal.models import Area
from portal.notices.models import Notice, Status
from portal.notices.services import (
    notice_approve,
    notice_attach,
    notice_submit,
    notice_withdraw,
    notices_expire_due,
)
from tests.factories import DistrictFactory, MunicipalityFactory, UserFactory
from tests.notices.conftest import Targeting, written

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def published(publisher, approver, **overrides: Any) -> Notice:
    notice = written(publisher, **overrides)
    notice_submit(author=publisher, notice_id=notice.pk)
    return notice_approve(approver=approver, notice_id=notice.pk)


def hidden_notices(publisher, approver, teacher, school, time_machine) -> dict[str, Notice]:
    """One notice in every state, or of every kind, that nobody may see publicly."""
    now = timezone.now()
    draft = written(publisher, title_ja="下書き")
    in_review = written(publisher, title_ja="審査中")
    notice_submit(author=publisher, notice_id=in_review.pk)
    scheduled = written(publisher, title_ja="予約済み", publish_at=now + timedelta(days=1))
    notice_submit(author=publisher, notice_id=scheduled.pk)
    notice_approve(approver=approver, notice_id=scheduled.pk)
    expired = published(
        publisher, approver, title_ja="期限切れ", expires_at=now + timedelta(hours=1)
    )
    notices_expire_due(now=now + timedelta(hours=2))
    # Beat has not expired it yet when the clock moves past its expiry (below).
    past_expiry = published(
        publisher, approver, title_ja="期限経過", expires_at=now + timedelta(minutes=90)
    )
    withdrawn = published(publisher, approver, title_ja="取り下げ")
    notice_withdraw(staff=publisher, notice_id=withdrawn.pk, comment="誤り")
    superseded = published(publisher, approver, title_ja="差し替え前", is_public=False)
    published(
        publisher, approver, title_ja="差し替え後", supersedes_id=superseded.pk, is_public=False
    )
    targeted = published(
        publisher,
        approver,
        title_ja="非公開の対象限定",
        is_public=False,
        targeting=Targeting(area_codes=[DistrictFactory.create().code]),
    )
    letter = written(
        teacher,
        category="school",
        title_ja="学校だより",
        school_code=school.code,
        department_code="",
        is_public=False,
    )
    notice_approve(approver=teacher, notice_id=letter.pk)
    notices = {
        "draft": draft,
        "in review": in_review,
        "scheduled": scheduled,
        "expired": expired,
        "published but past expiry": past_expiry,
        "withdrawn": withdrawn,
        "superseded": superseded,
        "targeted, not public": targeted,
        "school letter": letter,
    }
    time_machine.move_to(now + timedelta(hours=2))
    return {kind: Notice.objects.get(pk=n.pk) for kind, n in notices.items()}


@pytest.fixture
def hidden(publisher, approver, teacher, school, time_machine) -> dict[str, Notice]:
    return hidden_notices(publisher, approver, teacher, school, time_machine)


def test_the_hidden_notices_are_in_the_states_they_claim(hidden) -> None:
    assert hidden["draft"].status == Status.DRAFT
    assert hidden["in review"].status == Status.IN_REVIEW
    assert hidden["scheduled"].status == Status.APPROVED
    assert hidden["expired"].status == Status.EXPIRED
    assert hidden["published but past expiry"].status == Status.PUBLISHED
    assert hidden["withdrawn"].status == Status.WITHDRAWN
    assert hidden["superseded"].status == Status.SUPERSEDED
    assert hidden["school letter"].status == Status.PUBLISHED


def test_the_list_shows_a_published_notice_for_everyone(client, publisher, approver) -> None:
    published(publisher, approver, title_ja="除雪のお知らせ")
    assert "除雪のお知らせ" in client.get("/notices/").content.decode()


def test_no_hidden_notice_is_listed(client, hidden) -> None:
    page = client.get("/notices/").content.decode()
    assert [kind for kind, n in hidden.items() if n.title_ja in page] == []


@pytest.mark.parametrize(
    "kind",
    [
        "draft",
        "in review",
        "scheduled",
        "expired",
        "published but past expiry",
        "withdrawn",
        "superseded",
        "targeted, not public",
        "school letter",
    ],
)
def test_a_hidden_notice_is_not_found(client, hidden, kind) -> None:
    assert client.get(f"/notices/{hidden[kind].pk}/").status_code == 404


def test_a_school_letter_is_not_found_by_a_resident_either(client, hidden) -> None:
    client.force_login(UserFactory.create())
    assert client.get(f"/notices/{hidden['school letter'].pk}/").status_code == 404


def test_no_hidden_notice_is_in_the_feed(client, hidden, publisher, approver) -> None:
    visible = published(publisher, approver, title_ja="公開のお知らせ")
    feed = client.get("/notices/feed.atom")
    entries = ElementTree.fromstring(feed.content).findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [visible.title_ja]


def test_the_feed_is_atom_with_each_entrys_language_category_and_summary(
    client, publisher, approver
) -> None:
    published(publisher, approver, title_ja="道路工事", body_ja="**3月1日**から")

    response = client.get("/notices/feed.atom")

    assert response["Content-Type"].startswith("application/atom+xml")
    entry = ElementTree.fromstring(response.content).find(f"{ATOM}entry")
    assert entry is not None
    assert entry.get(XML_LANG) == "ja"
    assert entry.find(f"{ATOM}updated") is not None
    assert entry.find(f"{ATOM}category") is not None
    assert "<strong>3月1日</strong>" in (entry.findtext(f"{ATOM}summary") or "")


def test_the_feed_gives_english_entries_to_an_english_reader(client, publisher, approver) -> None:
    published(
        publisher, approver, title_ja="道路工事", title_en="Road works", body_en="From 1 March"
    )
    client.cookies["django_language"] = "en"
    entry = ElementTree.fromstring(client.get("/notices/feed.atom").content).find(f"{ATOM}entry")
    assert entry is not None
    assert (entry.findtext(f"{ATOM}title"), entry.get(XML_LANG)) == ("Road works", "en")


def test_a_summary_cannot_carry_a_script(client, publisher, approver) -> None:
    notice = published(publisher, approver)
    Notice.objects.filter(pk=notice.pk).update(body_ja="<script>alert(1)</script>")
    assert b"<script>" not in client.get("/notices/feed.atom").content.replace(b"&lt;", b"")


def test_the_list_links_its_feed(client) -> None:
    assert 'type="application/atom+xml"' in client.get("/notices/").content.decode()


def test_the_category_filter_keeps_only_that_category(client, publisher, approver) -> None:
    published(publisher, approver, title_ja="除雪車の出動", category="snow")
    published(publisher, approver, title_ja="夏祭りの案内", category="events")
    page = client.get("/notices/?category=snow").content.decode()
    assert "除雪車の出動" in page
    assert "夏祭りの案内" not in page


def test_the_area_filter_adds_public_notices_of_the_area_its_parent_and_children(
    client, publisher, approver
) -> None:
    district = DistrictFactory.create()
    neighbourhood = Area.objects.create(
        code="tsuruga-1", kind=Area.Kind.NEIGHBOURHOOD, parent=district, name_ja="鶴賀一丁目"
    )
    elsewhere = DistrictFactory.create()
    published(publisher, approver, title_ja="全員へ")
    for title, area in (
        ("町内へ", neighbourhood),
        ("市全体へ", MunicipalityFactory.create()),
        ("他地区へ", elsewhere),
    ):
        published(publisher, approver, title_ja=title, targeting=Targeting(area_codes=[area.code]))

    page = client.get(f"/notices/?area={district.code}").content.decode()

    assert ["全員へ" in page, "町内へ" in page, "市全体へ" in page, "他地区へ" in page] == [
        True,
        True,
        True,
        False,
    ]


def test_a_targeted_notice_is_listed_only_with_its_area(client, publisher, approver) -> None:
    district = DistrictFactory.create()
    published(
        publisher, approver, title_ja="地区へ", targeting=Targeting(area_codes=[district.code])
    )
    assert "地区へ" not in client.get("/notices/").content.decode()


def test_a_public_targeted_notice_opens_by_its_link(client, publisher, approver) -> None:
    district = DistrictFactory.create()
    notice = published(
        publisher, approver, title_ja="地区へ", targeting=Targeting(area_codes=[district.code])
    )
    assert client.get(f"/notices/{notice.pk}/").status_code == 200


def test_warnings_come_first_and_are_marked(client, publisher, approver, disaster_officer) -> None:
    published(publisher, approver, title_ja="お祭り")
    published(publisher, approver, title_ja="大雪警報", urgency="warning")
    published(publisher, approver, title_ja="新しいお知らせ")
    page = client.get("/notices/").content.decode()
    assert page.index("大雪警報") < page.index("新しいお知らせ") < page.index("お祭り")
    assert "notice-list__item--urgent" in page


def test_the_list_is_paginated(client, publisher, approver) -> None:
    for number in range(21):
        published(publisher, approver, title_ja=f"お知らせ{number:02}")
    first, second = client.get("/notices/"), client.get("/notices/?page=2")
    assert "お知らせ20" in first.content.decode()
    assert "お知らせ00" in second.content.decode()
    assert "お知らせ00" not in first.content.decode()


def test_htmx_gets_only_the_results(client, publisher, approver) -> None:
    published(publisher, approver, title_ja="除雪", category="snow")
    page = client.get("/notices/?category=snow", headers={"HX-Request": "true"}).content.decode()
    assert 'id="notice-results"' in page
    assert 'hx-swap-oob="innerHTML:#notice-count">1' in " ".join(page.split()).replace("> ", ">")
    assert "<html" not in page


def test_the_title_is_english_when_the_language_is_english(client, publisher, approver) -> None:
    notice = published(publisher, approver, title_ja="道路工事", title_en="Road works")
    client.cookies["django_language"] = "en"
    assert "Road works" in client.get("/notices/").content.decode()
    assert "Road works" in client.get(f"/notices/{notice.pk}/").content.decode()


def test_the_detail_shows_the_rendered_body(client, publisher, approver) -> None:
    notice = published(publisher, approver, body_ja="**3月1日**から")
    assert "<strong>3月1日</strong>" in client.get(f"/notices/{notice.pk}/").content.decode()


def test_easy_japanese_is_shown_when_asked_for(client, publisher, approver) -> None:
    notice = published(publisher, approver, body_easy="みちを なおします")
    page = client.get(f"/notices/{notice.pk}/?text=easy").content.decode()
    assert "みちを なおします" in page


def test_a_superseded_notice_leads_to_its_visible_successor(client, publisher, approver) -> None:
    first = published(publisher, approver, title_ja="断水")
    second = published(publisher, approver, title_ja="断水（更新）", supersedes_id=first.pk)
    response = client.get(f"/notices/{first.pk}/")
    assert (response.status_code, response["Location"]) == (302, f"/notices/{second.pk}/")


def test_a_page_in_english_is_english(client, publisher, approver) -> None:
    published(publisher, approver)
    with translation.override("en"):
        client.cookies["django_language"] = "en"
        assert 'lang="en"' in client.get("/notices/").content.decode()


@pytest.fixture
def attached(publisher, settings, tmp_path) -> tuple[Notice, Any]:
    settings.MEDIA_ROOT = tmp_path
    notice = written(publisher, title_ja="資料")
    pdf = SimpleUploadedFile("工事の案内.pdf", demo_pdf(), content_type="application/pdf")
    return notice, notice_attach(editor=publisher, notice_id=notice.pk, upload=pdf)


def test_an_attachment_downloads_with_its_name_type_and_nosniff(
    client, attached, publisher, approver
) -> None:
    notice, attachment = attached
    notice_submit(author=publisher, notice_id=notice.pk)
    notice_approve(approver=approver, notice_id=notice.pk)

    response = client.get(f"/notices/{notice.pk}/attachments/{attachment.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_an_attachment_of_an_invisible_notice_is_not_found(client, attached) -> None:
    notice, attachment = attached
    assert client.get(f"/notices/{notice.pk}/attachments/{attachment.pk}/").status_code == 404


def test_an_attachment_of_another_notice_is_not_found(
    client, attached, publisher, approver
) -> None:
    notice, attachment = attached
    other = published(publisher, approver, title_ja="別のお知らせ")
    assert client.get(f"/notices/{other.pk}/attachments/{attachment.pk}/").status_code == 404


def test_the_area_filter_offers_districts_under_their_municipality(client) -> None:
    municipality = MunicipalityFactory.create()
    district = DistrictFactory.create(name_ja="鶴城", parent=municipality)
    page = " ".join(client.get("/notices/").content.decode().split())
    assert f'<optgroup label="会津若松市"> <option value="{municipality.code}"' in page
    assert f'<option value="{district.code}" >鶴城</option>' in page
