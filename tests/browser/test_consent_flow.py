"""A new resident opts in to a little, sees it on "my data", withdraws part, downloads it all."""

from __future__ import annotations

import json

import pytest

from tests.browser.steps import sign_up_and_verify
from tests.factories import DistrictFactory

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "taro@example.jp"
PASSWORD = "bandai-san-kaze-2026"
SHARED = {"places", "interests"}


def stored(page, category: str) -> str:
    """What "my data" lists as stored for one category (its <dl>, empty when nothing is)."""
    values = page.locator(f"#category-{category} dl")
    return values.inner_text() if values.count() else ""


def test_opt_in_see_withdraw_and_download(page, smtp_mailbox, tmp_path) -> None:
    district = DistrictFactory.create(name_ja="鶴城地区", name_en="Kakujo")
    sign_up_and_verify(page, smtp_mailbox, email=EMAIL, password=PASSWORD)

    # Step-by-step opt-in: share places and interests for the home page, skip the rest.
    page.wait_for_url("**/consent/setup/**")
    while "/consent/setup/done/" not in page.url:
        category = page.url.rstrip("/").rsplit("/", 1)[-1]
        boxes = page.locator("input[name=purposes]")
        assert all(not box.is_checked() for box in boxes.all()), "nothing may be pre-ticked"
        if category in SHARED:
            page.locator("input[name=purposes][value=personalised_home]").check()
            page.locator("button[name=action][value=save]").click()
        else:
            page.locator("button[name=action][value=skip]").click()
        page.wait_for_load_state()

    # Only the consented sections are offered on the profile page.
    page.goto("/me/profile/")
    assert page.locator("form[action='/me/profile/interests/']").count() == 1
    assert page.locator("form[action='/me/profile/age/']").count() == 0
    page.locator("select[name=kind]").select_option("home")
    page.locator("select[name=area]").select_option(district.code)
    page.locator("form[action='/me/places/'] button[type=submit]").click()
    page.wait_for_load_state()
    page.goto("/me/profile/")
    page.locator("input[name=interests][value=sports]").check()
    page.locator("form[action='/me/profile/interests/'] button[type=submit]").click()
    page.wait_for_load_state()

    page.goto("/me/")
    assert "鶴城地区" in stored(page, "places")
    assert "スポーツ" in stored(page, "interests")

    # Withdraw interests: a confirmation page, then one click; no password, as for granting.
    page.locator("main a[href='/consent/categories/interests/withdraw/']").first.click()
    page.wait_for_url("**/consent/categories/interests/withdraw/")
    page.locator("main form[method=post] button[type=submit]").first.click()
    page.wait_for_url("**/consent/")
    page.goto("/me/")
    assert "スポーツ" not in stored(page, "interests")
    assert "鶴城地区" in stored(page, "places")

    # Download everything.
    with page.expect_download() as download_info:
        page.locator("main a[href='/me/data.json']").click()
    path = tmp_path / "my-data.json"
    download_info.value.save_as(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["account"]["email"] == EMAIL
    assert [p["area_code"] for p in document["places"]] == [district.code]
    assert document["interests"] == []
    assert {r["event"]["type"] for r in document["receipts"]} >= {"grant", "withdraw"}
