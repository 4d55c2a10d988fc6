"""The terms of use and the contact page: public, naming the city, its operator and its contact
point from settings, and replaceable by a city's own templates (CITY_TEMPLATES_DIR)."""

from __future__ import annotations

import copy

import pytest
from django.conf import settings as django_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client) -> None:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def city(settings):
    settings.MACHIPLUS_CITY = copy.deepcopy(django_settings.MACHIPLUS_CITY)
    return settings.MACHIPLUS_CITY


@pytest.mark.parametrize("url", ["/terms/", "/contact/"])
def test_the_page_is_open_to_anyone(client, url) -> None:
    assert client.get(url).status_code == 200


def test_the_terms_of_use_name_the_city_and_its_operator_from_settings(client, city) -> None:
    city["name"] = {"ja": "架空市", "en": "Kakuu City"}
    city["recipients"]["operator"] = {"ja": "架空データ株式会社", "en": "Kakuu Data Co., Ltd."}
    html = client.get("/terms/").content.decode()
    assert "Machi+ is the resident portal of Kakuu City." in html
    assert "Kakuu Data Co., Ltd. runs it on the city's behalf" in html
    assert 'href="/consent/privacy/"' in html


def test_the_contact_page_gives_the_contact_point_from_settings(client, city) -> None:
    city["contact"]["email"] = "hello@kakuu.example.jp"
    city["contact"]["phone"] = "0242 00 0000"
    html = client.get("/contact/").content.decode()
    assert 'href="mailto:hello@kakuu.example.jp"' in html
    assert 'href="tel:0242000000"' in html
    assert "0242 00 0000" in html


def test_the_contact_page_leaves_out_what_settings_leave_empty(client, city) -> None:
    city["contact"]["phone"] = ""
    assert 'href="tel:' not in client.get("/contact/").content.decode()


def test_a_city_replaces_the_terms_of_use_with_its_own_template(client, settings, tmp_path) -> None:
    (tmp_path / "legal").mkdir()
    (tmp_path / "legal" / "terms.html").write_text(
        '{% extends "_base.html" %}{% block content %}<h1>{{ city }} ご利用規約</h1>{% endblock %}',
        encoding="utf-8",
    )
    engines = copy.deepcopy(settings.TEMPLATES)
    engines[0]["DIRS"] = [tmp_path, *engines[0]["DIRS"]]
    settings.TEMPLATES = engines

    html = client.get("/terms/").content.decode()

    assert "<h1>Aizuwakamatsu City ご利用規約</h1>" in html
    assert 'href="/contact/"' in html  # still the portal's layout, footer and all
