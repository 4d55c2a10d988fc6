"""The home page in a browser: a resident sees a notice aimed at their area with why, sets one
aside without leaving the page, and a new emergency for their area appears without a reload."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from portal.residents import services as profile_services
from recommendations.services import feeds_rescore
from tests.browser.steps import log_in
from tests.factories import DEFAULT_PASSWORD, DistrictFactory, NoticeFactory, UserFactory
from tests.helpers import grant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def resident_of_kitaaizu():
    district = DistrictFactory.create(name_ja="北会津", name_en="Kitaaizu")
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places", "interactions")
    grant(resident, "disaster_warnings", "places")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    return resident, district


def test_the_resident_sees_a_notice_for_their_area_with_why(page, resident_of_kitaaizu) -> None:
    resident, district = resident_of_kitaaizu
    notice = NoticeFactory.create(title_ja="北会津の道路工事", is_public=False)
    notice.areas.add(district)
    feeds_rescore(id_range=(resident.pk, resident.pk))
    log_in(page, email=resident.email, password=DEFAULT_PASSWORD)

    page.goto("/")
    item = page.locator(f"#feed-{notice.pk}")
    expect(item).to_contain_text("北会津の道路工事")
    item.locator("summary").click()

    expect(item.locator("details ul")).to_contain_text("北会津")
    expect(item.locator("details ul")).to_contain_text("トップページ")


def test_not_interested_takes_the_notice_away_in_place(page, resident_of_kitaaizu) -> None:
    resident, _district = resident_of_kitaaizu
    dull = NoticeFactory.create(title_ja="興味のないお知らせ")
    feeds_rescore(id_range=(resident.pk, resident.pk))
    log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
    page.goto("/")
    item = page.locator(f"#feed-{dull.pk}")

    item.locator("form[action$='/dismiss/'] button").click()

    expect(item.locator("[role=status]")).to_contain_text("非表示にしました")
    expect(item.get_by_role("link", name="興味のないお知らせ")).to_have_count(0)
    assert page.url.endswith("/")
    page.reload()
    expect(page.locator(f"#feed-{dull.pk}")).to_have_count(0)


def test_setting_aside_can_be_undone_in_place(page, resident_of_kitaaizu) -> None:
    resident, _district = resident_of_kitaaizu
    dull = NoticeFactory.create(title_ja="興味のないお知らせ")
    feeds_rescore(id_range=(resident.pk, resident.pk))
    log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
    page.goto("/")
    item = page.locator(f"#feed-{dull.pk}")
    item.locator("form[action$='/dismiss/'] button").click()

    item.locator("form[action$='/undismiss/'] button").click()

    expect(item.locator("[role=status]")).to_contain_text("再び表示")


def test_a_new_emergency_for_the_residents_area_appears_without_a_reload(
    page, resident_of_kitaaizu, settings
) -> None:
    settings.HOME_URGENT_POLL_SECONDS = 1
    resident, district = resident_of_kitaaizu
    log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
    page.goto("/")
    expect(page.locator("#warnings-title")).to_have_count(0)
    page.evaluate("window.notReloaded = true")

    emergency = NoticeFactory.create(
        category="disaster", urgency="emergency", title_ja="北会津に避難指示"
    )
    emergency.areas.add(district)

    expect(page.locator("#urgent")).to_contain_text("北会津に避難指示", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    # The page stops asking, and the last answer is written, before the database is flushed.
    page.goto("about:blank")
    time.sleep(1)


def test_the_list_works_without_javascript(browser, live_server, resident_of_kitaaizu) -> None:
    resident, _district = resident_of_kitaaizu
    notice = NoticeFactory.create(title_ja="保存したいお知らせ")
    feeds_rescore(id_range=(resident.pk, resident.pk))
    context = browser.new_context(
        base_url=live_server.url, locale="ja-JP", java_script_enabled=False
    )
    page = context.new_page()
    log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
    page.goto("/")

    page.locator(f"#feed-{notice.pk} form[action$='/save/'] button").click()

    expect(page.locator(".message")).to_contain_text("保存")
    expect(page.locator(f"#feed-{notice.pk} .badge")).to_be_visible()
    context.close()
