"""A new resident signs up, verifies the address by email, and protects the account."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from tests.browser.steps import submit_main_form
from tests.helpers import start_of_next_totp_window, totp_code
from tests.portal.test_accounts import emailed_code

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "hanako@example.jp"
PASSWORD = "tsuruga-jo-sakura-2026"


def fresh_totp_code(time_machine, secret: str) -> str:
    """A code from the start of the next 30-second window, so that the browser has the whole
    window to submit it and it was never used before (allauth refuses a code twice). The clock
    keeps ticking from there, for the live server as for the test."""
    time_machine.move_to(start_of_next_totp_window(), tick=True)
    return totp_code(secret)


def test_sign_up_verify_log_in_enable_totp_and_log_out(page, smtp_mailbox, time_machine) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label(re.compile("メールアドレス|Email")).first.fill(EMAIL)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    submit_main_form(page)

    page.wait_for_url("**/accounts/confirm-email/")
    (body,) = smtp_mailbox.bodies_to(EMAIL)
    code = emailed_code(body)
    page.locator("input[name=code]").fill(code)
    submit_main_form(page)
    page.wait_for_url(lambda url: "/accounts/confirm-email" not in url)
    assert EmailAddress.objects.get(email=EMAIL).verified

    page.goto("/accounts/2fa/totp/activate/")
    # Signing in by the emailed code proved the address, not the password: a sensitive change
    # asks for the password first.
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.locator("input[name=password]").fill(PASSWORD)
    submit_main_form(page)
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    secret = page.locator("#authenticator_secret").input_value()
    page.locator("input[name=code]").fill(fresh_totp_code(time_machine, secret))
    submit_main_form(page)
    page.wait_for_url("**/accounts/2fa/**")
    assert Authenticator.objects.filter(user__email=EMAIL, type=Authenticator.Type.TOTP).exists()

    page.locator("header form[action='/accounts/logout/'] button").click()
    page.wait_for_load_state()
    assert page.locator("header a[href='/accounts/login/']").is_visible()
    assert not page.locator("header form[action='/accounts/logout/']").count()

    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    submit_main_form(page)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.locator("input[name=code]").fill(fresh_totp_code(time_machine, secret))
    submit_main_form(page)
    page.wait_for_url(lambda url: "/accounts/" not in url)
    assert page.locator("header form[action='/accounts/logout/']").is_visible()
