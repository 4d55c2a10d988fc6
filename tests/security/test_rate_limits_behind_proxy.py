"""Behind the documented proxy, rate limits count each real client, not the proxy (issue #7, 3):
one attacker's failed logins must not lock every resident out."""

from __future__ import annotations

import pytest
from django.http import HttpResponse, HttpResponseBase
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # every request reaches the site from the proxy


@pytest.fixture
def behind_one_proxy(settings) -> None:
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1


def login_through_proxy(
    email: str, password: str, *, client_ip: str, sent_xff: str = ""
) -> HttpResponseBase:
    # The proxy appends the address it saw to whatever X-Forwarded-For the client sent.
    forwarded = f"{sent_xff}, {client_ip}" if sent_xff else client_ip
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded, HTTP_ACCEPT_LANGUAGE="en")
    return client.post(reverse("account_login"), {"login": email, "password": password})


def refused_as_too_many(response: HttpResponseBase) -> bool:
    assert isinstance(response, HttpResponse)
    return "Too many failed login attempts" in response.content.decode()


def test_failed_logins_from_many_clients_do_not_lock_out_a_resident(behind_one_proxy) -> None:
    resident = UserFactory.create()
    for n in range(15):
        login_through_proxy(f"nobody{n}@example.jp", "wrong-password", client_ip=f"203.0.113.{n}")

    response = login_through_proxy(resident.email, DEFAULT_PASSWORD, client_ip="198.51.100.7")

    assert response.status_code == 302


def test_one_client_is_still_limited_whatever_it_puts_in_x_forwarded_for(
    behind_one_proxy,
) -> None:
    responses = [
        login_through_proxy(
            f"nobody{n}@example.jp",
            "wrong-password",
            client_ip="203.0.113.66",
            sent_xff=f"192.0.2.{n}",  # forged by the client: not the address the proxy saw
        )
        for n in range(12)
    ]

    assert not refused_as_too_many(responses[0])
    assert refused_as_too_many(responses[-1])


def test_the_deploy_setting_trusts_one_proxy_when_behind_proxy_is_set() -> None:
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.ALLAUTH_TRUSTED_PROXY_COUNT)"
    env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "1",
        "BEHIND_PROXY": "1",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "1"
