"""The lists of the profile page (places, children) with htmx and without JavaScript: focus
follows each change, and removing asks first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from consent import policy
from portal.residents import services as profile_services
from tests.browser.steps import log_in
from tests.factories import DEFAULT_PASSWORD, DistrictFactory, UserFactory
from tests.helpers import grant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def resident() -> Any:
    user = UserFactory.create()
    grant(user, "personalised_home", "places")
    return user


@pytest.fixture
def no_script_page(browser, live_server) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url, locale="ja-JP", java_script_enabled=False
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def place_ids(resident) -> list[int]:
    return [place.id for place in policy.read_own_data(resident_id=resident.pk).places]


def add_place(resident, name_ja: str = "鶴城地区") -> int:
    district = DistrictFactory.create(name_ja=name_ja)
    return profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=district.code
    ).pk


def test_after_adding_a_place_focus_is_on_the_news_in_the_places_section(page, resident) -> None:
    district = DistrictFactory.create(name_ja="鶴城地区")
    log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
    page.goto("/me/profile/")
    page.locator("select[name=kind]").select_option("home")
    page.locator("select[name=area]").select_option(district.code)
    page.locator("form[action='/me/places/'] button[type=submit]").click()

    # Focus moves after htmx settles the swap: expect() waits for it.
    expect(page.locator("#places [role=status]")).to_be_focused()
    assert page.evaluate("document.activeElement.closest('#places') !== null")
    assert len(place_ids(resident)) == 1


def test_a_refused_place_puts_focus_on_the_field_with_its_error(page, resident) -> None:
    district = DistrictFactory.create(name_ja="鶴城地区")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
    page.goto("/me/profile/")
    page.locator("select[name=kind]").select_option("home")
    page.locator("select[name=area]").select_option(district.code)
    page.locator("form[action='/me/places/'] button[type=submit]").click()

    area = page.locator("#places select[name=area]")
    expect(area).to_be_focused()
    assert area.get_attribute("aria-invalid") == "true"
    assert area.get_attribute("aria-describedby").split()[-1] == "id_area_error"
    assert len(place_ids(resident)) == 1


def test_removing_a_place_with_the_keyboard_asks_in_the_list_then_removes(page, resident) -> None:
    place_id = add_place(resident)
    log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
    page.goto("/me/profile/")
    remove = page.locator(f"#places-remove-{place_id}")

    remove.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#places .confirm [data-focus]")).to_be_focused()
    assert place_ids(resident) == [place_id]

    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator("#places .confirm a")).to_be_focused()
    page.keyboard.press("Enter")
    expect(remove).to_be_focused()
    assert page.locator("#places .confirm").count() == 0

    page.keyboard.press("Enter")
    expect(page.locator("#places .confirm [data-focus]")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#places .confirm button[type=submit]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#places [role=status]")).to_be_focused()
    assert place_ids(resident) == []


def test_without_javascript_removing_a_place_asks_on_a_page_of_its_own(
    no_script_page, resident
) -> None:
    page = no_script_page
    place_id = add_place(resident)
    log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
    page.goto("/me/profile/")

    page.locator(f"#places-remove-{place_id}").click()
    page.wait_for_url(f"**/me/places/{place_id}/remove/**")
    assert "鶴城地区" in page.locator("h1").inner_text()
    assert place_ids(resident) == [place_id]

    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url("**/me/profile/**")
    assert place_ids(resident) == []
