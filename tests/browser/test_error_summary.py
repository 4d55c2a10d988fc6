"""A refused form's error summary takes focus when the page loads, and its links lead to the
fields, with the keyboard alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.steps import submit_main_form

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_error_summary_has_focus_and_its_link_moves_focus_to_the_field(page) -> None:
    page.goto("/accounts/signup/")
    page.locator("input[name=email]").fill("hanako@example.jp")
    page.locator("input[name=password1]").fill("short")
    page.locator("input[name=password2]").fill("short")
    submit_main_form(page)
    expect(page.locator("#error-summary")).to_be_focused()

    page.keyboard.press("Tab")
    expect(page.locator("#error-summary a").first).to_be_focused()
    assert page.locator("#error-summary a").first.get_attribute("href") == "#id_password1"
    page.keyboard.press("Enter")
    expect(page.locator("#id_password1")).to_be_focused()
