"""The public pages: Japanese first, English on request, usable without JavaScript."""

from __future__ import annotations

import pytest

from tests.factories import ShelterFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_home_page_is_in_japanese_by_default(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ja"' in html
    assert "会津" in html or "あなたのまち" in html


def test_language_switcher_turns_the_site_to_english(client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    html = response.content.decode()
    assert '<html lang="en"' in html
    assert "Your city, for you" in html


def test_every_page_has_a_skip_link_and_main_landmark(client) -> None:
    html = client.get("/").content.decode()
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html


def test_pages_load_no_script_or_style_from_another_host(client) -> None:
    html = client.get("/").content.decode()
    assert "//cdn" not in html
    assert 'src="http' not in html
    assert 'href="http' not in html.replace('href="http://testserver', "")


def test_large_text_toggle_is_remembered_in_a_cookie_and_applied_on_the_next_page(client) -> None:
    response = client.post("/preferences/text-size/", {"next": "/shelters/"})
    assert response.status_code == 302
    assert response["Location"] == "/shelters/"
    assert response.cookies["machiplus_text_size"].value == "large"
    assert 'class="text-large"' in client.get("/").content.decode()


def test_large_text_toggle_switches_back_to_normal(client) -> None:
    client.post("/preferences/text-size/", {"next": "/"})
    response = client.post("/preferences/text-size/", {"next": "/"})
    assert response.cookies["machiplus_text_size"].value == "normal"


def test_large_text_toggle_never_redirects_to_another_site(client) -> None:
    response = client.post("/preferences/text-size/", {"next": "https://evil.example.com/"})
    assert response["Location"] == "/"


def test_text_size_cookie_with_a_forged_value_falls_back_to_normal(client) -> None:
    client.cookies["machiplus_text_size"] = "<script>"
    html = client.get("/").content.decode()
    assert 'class="text-normal"' in html


def test_large_text_toggle_refuses_get(client) -> None:
    assert client.get("/preferences/text-size/").status_code == 405


def test_shelter_list_filters_by_district_without_javascript(client) -> None:
    inside = ShelterFactory.create(name_ja="鶴城小学校")
    ShelterFactory.create(name_ja="河東中学校")
    html = client.get("/shelters/", {"area": inside.area.code}).content.decode()
    assert "鶴城小学校" in html
    assert "河東中学校" not in html


def test_shelter_page_credits_the_geospatial_information_authority(client) -> None:
    assert "出典：国土地理院" in client.get("/shelters/").content.decode()


@pytest.mark.parametrize("path", ["/", "/shelters/"])
def test_the_japanese_credit_is_marked_japanese_on_english_pages(client, path) -> None:
    """A screen reader reads it in Japanese, not spelled out in English (WCAG 3.1.2)."""
    html = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en"' in html
    assert '<span lang="ja">出典：国土地理院</span>' in html


def test_unknown_url_gets_the_styled_404_page(client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="skip-link"' in html
    assert "ページが見つかりません" in html


@pytest.mark.urls("tests.portal.failing_urls")
def test_server_error_shows_the_styled_500_page_without_a_traceback(client) -> None:
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "エラーが発生しました" in html
    assert "Traceback" not in html
    assert "RuntimeError" not in html


@pytest.mark.urls("tests.portal.failing_urls")
def test_a_lost_database_connection_answers_a_styled_503_saying_to_try_again(client) -> None:
    client.raise_request_exception = False
    response = client.get("/database-gone/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert "ただいま利用できません" in html
    assert "Temporarily unavailable" in html
    assert "OperationalError" not in html


@pytest.mark.urls("tests.portal.failing_urls")
def test_a_lost_database_connection_is_logged_in_one_line(client, caplog) -> None:
    client.raise_request_exception = False
    client.get("/database-gone/")
    [record] = [r for r in caplog.records if "Database unavailable" in r.getMessage()]
    assert record.getMessage() == (
        "Database unavailable (OperationalError: server closed the connection unexpectedly): "
        "answered 503 to GET /database-gone/"
    )
    assert record.exc_info is None
    assert not [r for r in caplog.records if r.name == "django.request"]


@pytest.mark.urls("tests.portal.failing_urls")
def test_a_bad_query_stays_a_500_a_fault_to_fix(client) -> None:
    client.raise_request_exception = False
    response = client.get("/bad-query/")
    assert response.status_code == 500
    assert "エラーが発生しました" in response.content.decode()


def test_shelter_list_names_the_hazards_a_site_is_designated_for(client) -> None:
    ShelterFactory.create(for_flood=True, for_earthquake=True, for_landslide=False)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "flood, earthquake" in client.get("/shelters/").content.decode()


def test_home_invites_a_resident_who_shares_nothing_to_choose_what_to_share(client) -> None:
    client.force_login(UserFactory.create())
    html = client.get("/").content.decode()
    assert 'href="/consent/setup/"' in html


def test_home_tells_a_resident_how_much_they_share_and_links_to_my_data(client) -> None:
    from tests.helpers import grant

    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places", "language")
    client.force_login(resident)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert "You share 2 kinds of information" in html
    assert 'href="/me/"' in html


def test_home_shows_the_nearest_shelters_to_a_shared_home_location(client) -> None:
    from decimal import Decimal

    from consent.models import DataUseEvent
    from portal.residents import services as profile_services
    from tests.helpers import grant

    near = ShelterFactory.create(
        name_ja="近い避難所", latitude=Decimal("37.4950"), longitude=Decimal("139.9300")
    )
    ShelterFactory.create(
        name_ja="遠い避難所", latitude=Decimal("37.60"), longitude=Decimal("139.80")
    )
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "location")
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.4951"), longitude=Decimal("139.9301")
    )
    client.force_login(resident)

    html = client.get("/").content.decode()

    assert html.index(near.name_ja) < html.index("遠い避難所")
    use = DataUseEvent.objects.get(resident=resident)
    assert (use.purpose_code, use.category_codes) == ("disaster_warnings", ["location"])


def test_home_shows_no_shelter_guidance_without_consent_for_disaster_warnings(client) -> None:
    from consent.models import DataUseEvent
    from portal.residents import services as profile_services
    from tests.factories import DistrictFactory
    from tests.helpers import grant

    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=DistrictFactory.create().code
    )
    client.force_login(resident)
    html = client.get("/").content.decode()
    assert 'id="shelters-title"' not in html
    assert not DataUseEvent.objects.filter(
        resident=resident, purpose_code="disaster_warnings"
    ).exists()


def test_pages_for_a_logged_in_resident_are_never_cached(client) -> None:
    client.force_login(UserFactory.create())
    for path in ("/", "/me/", "/consent/"):
        cache_control = client.get(path)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, path


def test_public_pages_for_visitors_may_be_cached(client) -> None:
    assert "no-store" not in client.get("/shelters/").get("Cache-Control", "")


def test_pages_carry_a_strict_content_security_policy(client) -> None:
    policy = client.get("/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
