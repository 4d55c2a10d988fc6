"""A notice from writing to publication, in the browser: a publisher writes a targeted notice with
a preview and an audience estimate and submits it, an approver sends it back with a comment, the
publisher fixes it and submits it again, the approver approves it for later, and beat publishes
it at its time; then anyone finds it under /notices/. A disaster officer publishes a warning
without review, and it is on everyone's home page at once. A teacher publishes a letter that a
parent acknowledges."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.notices.models import Department, Notice, SchoolStaffMembership
from portal.notices.services import notices_publish_due
from portal.residents import services as profile_services
from tests.browser.steps import log_in
from tests.browser.test_accessibility import log_in_as_staff, submit
from tests.factories import (
    DEFAULT_PASSWORD,
    DistrictFactory,
    SchoolFactory,
    StaffFactory,
    UserFactory,
)
from tests.helpers import grant, with_totp

pytestmark = pytest.mark.django_db(transaction=True)


def as_staff(browser: Any, live_server: Any, staff: Any, time_machine: Any) -> Any:
    context = browser.new_context(base_url=live_server.url, locale="ja-JP")
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in_as_staff(page, staff, time_machine)
    return page


def test_write_send_back_fix_approve_and_publish_at_its_time(
    browser, live_server, time_machine
) -> None:
    department = Department.objects.create(code="roads", name_ja="道路維持課")
    DistrictFactory.create(code="072028-kita", name_ja="北地区")
    publisher = with_totp(StaffFactory.create(roles=["publisher"]))
    approver = with_totp(StaffFactory.create(roles=["approver"]))
    department.members.add(publisher)
    publish_at = timezone.localtime() + timedelta(hours=3)

    author = as_staff(browser, live_server, publisher, time_machine)
    author.goto("/staff/notices/new/")
    author.locator("select[name=category]").select_option("snow")
    author.locator("input[name=title_ja]").fill("北地区の除雪")
    author.locator("textarea[name=body_ja]").fill("今夜から**除雪**します。")
    author.locator("select[name=department]").select_option("roads")
    author.locator("input[name=publish_at]").fill(publish_at.strftime("%Y-%m-%dT%H:%M"))
    author.locator("input[name=areas][value='072028-kita']").check()
    expect(author.locator("#notice-preview strong")).to_have_text("除雪")
    author.locator("button[value=estimate]").click()
    expect(author.locator("#audience-estimate")).to_contain_text("10人未満")
    submit(author, "button[value=save]")
    notice = Notice.objects.get()
    submit(author, "button:text-is('審査に提出')")
    assert Notice.objects.get().status == "in_review"

    reviewer = as_staff(browser, live_server, approver, time_machine)
    reviewer.goto("/staff/notices/review/")
    reviewer.locator(f"#comment-{notice.pk}").fill("時刻を書いてください")
    submit(reviewer, "button:text-is('差し戻す')")
    assert Notice.objects.get().status == "draft"

    author.goto(f"/staff/notices/{notice.pk}/")
    expect(author.locator("blockquote")).to_contain_text("時刻を書いてください")
    author.locator("textarea[name=body_ja]").fill("今夜**22時**から除雪します。")
    submit(author, "button[value=save]")
    submit(author, "button:text-is('審査に提出')")

    reviewer.goto("/staff/notices/review/")
    submit(reviewer, "button:text-is('承認')")
    notice.refresh_from_db()
    assert notice.status == "approved"
    assert notice.body_ja == "今夜**22時**から除雪します。"

    time_machine.move_to(publish_at + timedelta(minutes=1), tick=True)
    assert notices_publish_due() == [notice.pk]

    visitor = browser.new_context(base_url=live_server.url, locale="ja-JP").new_page()
    visitor.goto("/notices/?area=072028-kita")
    expect(visitor.locator("main")).to_contain_text("北地区の除雪")
    visitor.goto(f"/notices/{notice.pk}/")
    expect(visitor.locator("main strong")).to_have_text("22時")


def test_a_disaster_officer_publishes_a_warning_that_is_on_the_home_page_at_once(
    browser, live_server, time_machine
) -> None:
    officer = with_totp(StaffFactory.create(roles=["disaster_officer"]))

    page = as_staff(browser, live_server, officer, time_machine)
    page.goto("/staff/notices/new/")
    page.locator("select[name=category]").select_option("disaster")
    page.locator("select[name=urgency]").select_option("emergency")
    page.locator("input[name=title_ja]").fill("避難指示（北地区）")
    submit(page, "button[value=save]")
    submit(page, "button:has-text('審査なしで今すぐ公開')")

    notice = Notice.objects.get()
    assert notice.status == "published"
    assert notice.needs_second_look
    visitor = browser.new_context(base_url=live_server.url, locale="ja-JP").new_page()
    visitor.goto("/")
    expect(visitor.locator("#warnings-title")).to_be_visible()
    expect(visitor.locator("main")).to_contain_text("避難指示（北地区）")


def test_a_teacher_publishes_a_letter_that_a_parent_acknowledges(
    browser, live_server, time_machine
) -> None:
    school = SchoolFactory.create(code="tsuruga-es", name_ja="鶴賀小学校")
    teacher = with_totp(StaffFactory.create(roles=["school_staff"]))
    SchoolStaffMembership.objects.create(user=teacher, school=school)
    parent = UserFactory.create()
    grant(parent, "school_letters", "household")
    profile_services.child_add(resident_id=parent.pk, school_code=school.code, grade=2)

    page = as_staff(browser, live_server, teacher, time_machine)
    page.goto("/staff/notices/new/")
    page.locator("select[name=category]").select_option("school")
    page.locator("input[name=title_ja]").fill("遠足の持ち物")
    page.locator("textarea[name=body_ja]").fill("お弁当と水筒を持たせてください。")
    page.locator("select[name=school]").select_option(school.code)
    page.locator("input[name=is_public]").uncheck()
    page.locator("input[name=requires_acknowledgement]").check()
    page.locator("select[name=audience_school_0]").select_option(school.code)
    page.locator("input[name=audience_grade_0]").fill("2")
    submit(page, "button[value=save]")
    submit(page, "button:text-is('承認')")
    letter = Notice.objects.get()
    assert letter.status == "published"

    family = browser.new_context(base_url=live_server.url, locale="ja-JP").new_page()
    log_in(family, email=parent.email, password=DEFAULT_PASSWORD)
    family.goto("/letters/")
    family.get_by_role("link", name="遠足の持ち物").click()
    submit(family, "button:text-is('読みました')")
    expect(family.locator("main")).to_contain_text("既読を確認しました")
    assert letter.acknowledgements.filter(resident=parent).exists()

    page.goto(f"/staff/notices/{letter.pk}/follow-up/")
    expect(page.locator("main")).to_contain_text("すべてのご家庭が既読を確認しました")
