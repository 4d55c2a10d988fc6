"""The notice editor's preview follows the author's typing with htmx (and the strict CSP)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.notices.models import Department, Notice
from tests.browser.test_accessibility import log_in_as_staff
from tests.factories import StaffFactory
from tests.helpers import with_totp

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_preview_follows_typing_without_saving(page, time_machine) -> None:
    department = Department.objects.create(code="roads", name_ja="道路維持課")
    publisher = with_totp(StaffFactory.create(roles=["publisher"]))
    department.members.add(publisher)
    log_in_as_staff(page, publisher, time_machine)
    page.goto("/staff/notices/new/")

    page.locator("input[name=title_ja]").fill("除雪のお知らせ")
    page.locator("textarea[name=body_ja]").fill("今夜から**除雪**します。")

    expect(page.locator("#notice-preview strong")).to_have_text("除雪")
    expect(page.locator("#notice-preview h3")).to_contain_text("除雪のお知らせ")
    assert page.url.endswith("/staff/notices/new/")
    assert not Notice.objects.exists()
