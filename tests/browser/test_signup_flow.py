"""A new resident signs up, verifies the address by email, and protects the account."""

from __future__ import annotations

import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from tests.browser.steps import submit_main_form
from tests.portal.test_accounts import emailed_code

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "hanako@example.jp"
PASSWORD = "tsuruga-jo-sakura-2026"
TOTP_PERIOD = 30


def totp_now(secret: str) -> tuple[int, str]:
    counter = int(time.time()) // TOTP_PERIOD
    return counter, format_hotp_value(hotp_value(secret, counter))


def totp_after(secret: str, used_counter: int) -> str:
    """A code from a later time step: allauth refuses to accept the same code twice."""
    while int(time.time()) // TOTP_PERIOD <= used_counter:
        time.sleep(0.5)
    return totp_now(secret)[1]


def test_sign_up_verify_log_in_enable_totp_and_log_out(page, smtp_mailbox) -> None:
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
    counter, code = totp_now(secret)
    page.locator("input[name=code]").fill(code)
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
    page.locator("input[name=code]").fill(totp_after(secret, counter))
    submit_main_form(page)
    page.wait_for_url(lambda url: "/accounts/" not in url)
    assert page.locator("header form[action='/accounts/logout/']").is_visible()
