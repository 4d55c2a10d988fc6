"""The site calls itself by its name and links to the URL it runs on: in emails and receipts."""

from __future__ import annotations

import pytest
from django.contrib.sites.models import Site
from django.core import mail
from django.core.management.sql import emit_post_migrate_signal

from consent.receipts import consent_receipt
from portal.infra.sites import on_site_url
from tests.factories import UserFactory
from tests.helpers import grant

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "aizu-tsuruga-castle-1384"


def sign_up(client, email: str = "new@example.jp") -> None:
    client.post(
        "/accounts/signup/",
        {"email": email, "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD},
    )


def test_the_site_row_takes_its_name_and_domain_from_settings_after_migrate(settings) -> None:
    settings.SITE_NAME = "Kitakata+"
    settings.SITE_URL = "https://portal.kitakata.example.jp"

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    site = Site.objects.get_current()
    assert (site.name, site.domain) == ("Kitakata+", "portal.kitakata.example.jp")


def test_the_verification_email_greets_with_the_site_name_not_the_host(client) -> None:
    sign_up(client)

    [message] = mail.outbox
    assert "Machi+" in message.subject
    assert "Machi+" in message.body
    assert "testserver" not in f"{message.subject}\n{message.body}"


def test_links_in_emails_start_with_the_url_the_site_runs_on(client, settings) -> None:
    settings.SITE_URL = "http://127.0.0.1:8080"
    user = UserFactory.create()

    client.post("/accounts/password/reset/", {"email": user.email})

    [message] = mail.outbox
    assert "http://127.0.0.1:8080/accounts/password/reset/key/" in message.body
    assert "testserver" not in message.body


def test_links_in_receipts_start_with_the_url_the_site_runs_on(settings) -> None:
    settings.SITE_URL = "http://127.0.0.1:8080"
    event = grant(UserFactory.create(), "school_letters", "household")

    receipt = consent_receipt(event, language="en")

    policy_url = "http://127.0.0.1:8080/consent/purposes/school_letters/"
    kantara = receipt["kantara_consent_receipt_v1_1"]
    assert receipt["notice"]["url"] == policy_url
    assert kantara["policyUrl"] == policy_url
    assert kantara["piiControllers"][0]["piiControllerUrl"] == "http://127.0.0.1:8080"


def test_a_link_to_another_host_is_left_alone(settings) -> None:
    settings.SITE_URL = "https://machi.example.jp"
    link = "https://www.city.aizuwakamatsu.fukushima.jp/"
    assert on_site_url(link, request_host="testserver") == link


def test_a_link_on_the_request_host_keeps_its_path_query_and_fragment(settings) -> None:
    settings.SITE_URL = "https://machi.example.jp"
    link = "http://testserver/accounts/signup/?next=/me/#form"
    assert on_site_url(link, request_host="testserver") == (
        "https://machi.example.jp/accounts/signup/?next=/me/#form"
    )
