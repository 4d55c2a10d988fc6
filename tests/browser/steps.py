"""Steps shared by the browser tests (plain functions over a Playwright page)."""

from __future__ import annotations

import re
from typing import Any

from tests.mail_sink import Mailbox

CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")


def submit_main_form(page: Any) -> None:
    """Press the form's primary button (allauth puts a Cancel button after some of them)."""
    page.locator("main form[method=post] button[type=submit]:not([form])").first.click()


def sign_up_and_verify(page: Any, mailbox: Mailbox, *, email: str, password: str) -> None:
    page.goto("/accounts/signup/")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password1]").fill(password)
    page.locator("input[name=password2]").fill(password)
    submit_main_form(page)
    page.wait_for_url("**/accounts/confirm-email/")
    (body,) = mailbox.bodies_to(email)
    match = CODE.search(body)
    assert match, f"no verification code in:\n{body}"
    page.locator("input[name=code]").fill(match.group(0))
    submit_main_form(page)
    page.wait_for_url(lambda url: "/accounts/confirm-email" not in url)


def log_in(page: Any, *, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    submit_main_form(page)
    page.wait_for_url(lambda url: "/accounts/login" not in url)
