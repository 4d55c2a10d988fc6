"""The privacy notice is generated from the consent catalogue and the settings that name the real
bodies behind it: it lists what the catalogue holds, and changes when the catalogue does. It is
public, Japanese by default and English after the language switch; sign-up, the footer and every
consent step link to it."""

from __future__ import annotations

import copy
import re

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils.html import escape

from consent.models import DataCategory, Purpose, Recipient
from consent.services import terms_publish
from tests.factories import UserFactory
from tests.helpers import grant

pytestmark = pytest.mark.django_db

URL = "/consent/privacy/"


@pytest.fixture
def english(client) -> None:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def city(settings):
    """settings.MACHIPLUS_CITY, to change in a test (restored afterwards)."""
    settings.MACHIPLUS_CITY = copy.deepcopy(django_settings.MACHIPLUS_CITY)
    return settings.MACHIPLUS_CITY


def page(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


def test_the_privacy_notice_is_open_to_anyone(client) -> None:
    assert client.get(URL).status_code == 200


def test_the_privacy_notice_lists_every_purpose_and_category_of_the_catalogue(
    client, english
) -> None:
    html = page(client)
    for purpose in Purpose.objects.all():
        assert escape(purpose.name_en) in html, purpose.code
    for category in DataCategory.objects.all():
        assert escape(category.name_en) in html, category.code


def test_a_purpose_added_to_the_catalogue_appears_with_its_terms(client, english) -> None:
    Purpose.objects.create(
        code="walking_routes",
        dpv_term="dpv:ServiceProvision",
        name_ja="散歩道のおすすめ",
        name_en="Walking route suggestions",
        position=9,
    )
    terms_publish(
        purpose_code="walking_routes",
        category_codes=["places"],
        recipient_codes=["city"],
        text_ja="近くの散歩道をおすすめします。",
        text_en="Suggests walks near your places.",
        retention_days=14,
        valid_days=90,
        withdrawal_method_ja="いつでも取り消せます。",
        withdrawal_method_en="Withdraw at any time.",
    )

    html = page(client)

    assert "Walking route suggestions" in html
    assert "Suggests walks near your places." in html
    assert "A consent lasts 90 days" in html
    assert "deleted within 14 days at most" in html
    assert 'href="#purpose-walking_routes"' in html  # listed under Places, which it asks for


def test_a_category_no_purpose_asks_for_is_listed_as_such(client, english) -> None:
    DataCategory.objects.create(
        code="pets", dpv_term="pd:Pet", name_ja="ペット", name_en="Pets", position=99
    )
    html = page(client)
    row = re.search(r'<tr id="category-pets">.*?</tr>', html, re.S)
    assert row is not None
    assert "No purpose asks for it at the moment." in row.group(0)


def test_every_recipient_is_named_by_its_legal_name_from_settings(client, english, city) -> None:
    city["recipients"] = {
        "city": {"ja": "架空市", "en": "Kakuu City"},
        "board_of_education": {"ja": "架空市教育委員会", "en": "Kakuu City Board of Education"},
        "operator": {"ja": "架空データ株式会社", "en": "Kakuu Data Co., Ltd."},
    }
    html = page(client)
    for name in ("Kakuu City", "Kakuu City Board of Education", "Kakuu Data Co., Ltd."):
        assert name in html
    assert Recipient.objects.count() == 3


def test_a_recipient_settings_do_not_name_keeps_its_catalogue_name(client, english, city) -> None:
    Recipient.objects.create(
        code="prefecture",
        role=Recipient.Role.THIRD_PARTY,
        dpv_term="dpv:ThirdParty",
        name_ja="県",
        name_en="The prefecture",
    )
    assert "The prefecture" in page(client)


def test_the_privacy_notice_names_the_city_and_its_contact_point_from_settings(
    client, english, city
) -> None:
    city["name"] = {"ja": "架空市", "en": "Kakuu City"}
    city["contact"] = {
        "office": {"ja": "情報政策課", "en": "Information Policy Division"},
        "email": "privacy@kakuu.example.jp",
        "phone": "0242-00-0000",
        "address": {"ja": "架空市中央1-1", "en": "1-1 Chuo, Kakuu"},
        "hours": {"ja": "平日9時～17時", "en": "Weekdays 9:00–17:00"},
    }
    html = page(client)
    assert "Kakuu City runs Machi+" in html
    assert "Information Policy Division" in html
    assert 'href="mailto:privacy@kakuu.example.jp"' in html
    assert 'href="tel:0242-00-0000"' in html
    assert "1-1 Chuo, Kakuu" in html
    assert "Weekdays 9:00–17:00" in html


def test_an_english_text_left_empty_in_settings_shows_the_japanese_one(
    client, english, city
) -> None:
    city["contact"]["address"] = {"ja": "架空市中央1-1", "en": ""}
    assert "架空市中央1-1" in page(client)


def test_the_privacy_notice_says_how_long_the_data_use_log_is_kept(
    client, english, settings
) -> None:
    settings.DATA_USE_LOG_RETENTION_DAYS = 123
    assert "The data-use log: 123 days" in page(client)


def test_the_privacy_notice_says_what_every_account_stores(client, english) -> None:
    html = page(client)
    for kind in ("Email address", "Login records", "Data-use log", "Consent records"):
        assert kind in html


def test_the_privacy_notice_links_each_appi_right_to_where_it_is_exercised(client, english) -> None:
    html = page(client)
    assert "Act on the Protection of Personal Information" in html
    for label in ("Disclosure", "Correction", "Suspension of use", "Deletion"):
        assert f"<dt>{label}</dt>" in html
    for href in ("/me/", "/me/data.json", "/me/profile/", "/consent/", "/me/delete/"):
        assert f'href="{href}"' in html


def test_the_privacy_notice_is_in_japanese_by_default(client) -> None:
    html = page(client)
    assert '<html lang="ja"' in html
    assert "<h1>プライバシーポリシー</h1>" in html
    assert "個人情報の保護に関する法律" in html
    for purpose in Purpose.objects.all():
        assert escape(purpose.name_ja) in html


def test_the_privacy_notice_is_in_english_after_the_language_switch(client) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": URL})
    html = page(client)
    assert '<html lang="en"' in html
    assert "<h1>Privacy notice</h1>" in html
    assert "Aizuwakamatsu City Board of Education" in html


# -- where it is linked from -----------------------------------------------------------------

PRIVACY_LINK = f'href="{URL}"'


def test_sign_up_links_to_the_privacy_notice_and_the_terms_of_use(client) -> None:
    html = client.get("/accounts/signup/").content.decode()
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert PRIVACY_LINK in main
    assert 'href="/terms/"' in main


@pytest.mark.parametrize("url", ["/", "/shelters/", "/accounts/login/", URL])
def test_the_footer_links_to_the_privacy_notice_terms_of_use_and_contact(client, url) -> None:
    footer = client.get(url).content.decode().split("<footer", 1)[1]
    for href in (URL, "/terms/", "/contact/"):
        assert f'href="{href}"' in footer


@pytest.mark.parametrize(
    "url",
    [
        "/consent/setup/places/",
        "/consent/setup/done/",
        "/consent/",
        "/consent/purposes/personalised_home/",
        "/consent/purposes/personalised_home/withdraw/",
        "/consent/categories/interests/withdraw/",
    ],
)
def test_every_consent_step_links_to_the_privacy_notice(url) -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "interests")
    browser = Client()
    browser.force_login(resident)
    html = browser.get(url).content.decode()
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert PRIVACY_LINK in main
