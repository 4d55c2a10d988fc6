"""/shelters/ in a browser: the map of the sites, "where I am" from the browser's position, and
the page without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.factories import ShelterFactory

pytestmark = pytest.mark.django_db(transaction=True)

NEAR_TSURUGA_JO = {"latitude": 37.48764, "longitude": 139.92981}


def context_page(browser, live_server, **options: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="ja-JP", **options)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def located_page(browser, live_server) -> Iterator[Any]:
    """A browser whose visitor allows the site to know where they are."""
    yield from context_page(
        browser, live_server, geolocation=NEAR_TSURUGA_JO, permissions=["geolocation"]
    )


@pytest.fixture
def unlocated_page(browser, live_server) -> Iterator[Any]:
    """A browser whose visitor does not let the site know where they are."""
    yield from context_page(browser, live_server, permissions=[])


@pytest.fixture
def no_script_page(browser, live_server) -> Iterator[Any]:
    yield from context_page(browser, live_server, java_script_enabled=False)


@pytest.fixture
def two_sites() -> None:
    ShelterFactory.create(
        name_ja="遠い避難所", latitude=Decimal("37.5600"), longitude=Decimal("139.9300")
    )
    ShelterFactory.create(
        name_ja="近い避難所", latitude=Decimal("37.4880"), longitude=Decimal("139.9300")
    )


def test_where_i_am_lists_the_nearest_site_first_from_a_rounded_position(
    located_page, two_sites
) -> None:
    page = located_page
    page.goto("/shelters/")

    page.locator("#locate-me").click()

    page.wait_for_url(re.compile(r"near=here"))
    assert "lat=37.488" in page.url and "lon=139.930" in page.url
    expect(page.locator(".shelter-card__name").first).to_have_text("近い避難所")
    expect(page.locator("#shelter-map .leaflet-tooltip")).to_be_visible()


def test_a_refused_position_says_so_and_leaves_the_list_as_it_was(
    unlocated_page, two_sites
) -> None:
    page = unlocated_page
    page.goto("/shelters/")

    page.locator("#locate-me").click()

    expect(page.locator("#locate-status")).to_contain_text("位置")
    assert "near=" not in page.url
    expect(page.locator(".shelter-card")).to_have_count(2)


def test_the_map_draws_every_site_and_names_one_when_clicked(page, two_sites) -> None:
    page.goto("/shelters/")

    markers = page.locator("#shelter-map path.leaflet-interactive")
    expect(markers).to_have_count(2)
    markers.first.dispatch_event("click")

    expect(page.locator("#shelter-map .leaflet-popup-content")).to_contain_text("避難所")


def test_a_name_on_the_map_stays_text(page) -> None:
    ShelterFactory.create(name_ja='<img src=x id="injected">')
    page.goto("/shelters/")

    page.locator("#shelter-map path.leaflet-interactive").first.dispatch_event("click")

    expect(page.locator("#shelter-map .leaflet-popup-content")).to_contain_text("<img src=x")
    expect(page.locator("#injected")).to_have_count(0)


def test_the_map_follows_the_district_chosen_with_htmx(page) -> None:
    site = ShelterFactory.create()
    ShelterFactory.create()
    page.goto("/shelters/")
    expect(page.locator("#shelter-map path.leaflet-interactive")).to_have_count(2)

    page.locator("#area-filter").select_option(site.area.code)

    expect(page.locator("#shelter-map path.leaflet-interactive")).to_have_count(1)


def test_without_javascript_the_list_stands_alone_and_home_is_a_link(
    no_script_page, two_sites
) -> None:
    page = no_script_page
    page.goto("/shelters/")

    expect(page.locator("#shelter-map")).to_be_hidden()
    expect(page.locator("#locate-me")).to_be_hidden()
    expect(page.locator(".shelter-card")).to_have_count(2)
    page.locator("#hazard-filter, select[name=hazard]").first.select_option("earthquake")
    page.locator("#shelter-search button[type=submit]").click()
    page.wait_for_url(re.compile(r"hazard=earthquake"))
    expect(page.locator(".shelter-card")).to_have_count(2)
