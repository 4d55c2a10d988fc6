"""The profile form: only consented sections, one small form each, bad input stores nothing."""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.test import Client

from consent import policy
from portal.models import Area, School
from portal.residents import services as profile_services
from tests.factories import DistrictFactory, SchoolFactory, UserFactory
from tests.helpers import grant

pytestmark = pytest.mark.django_db


def own_data(resident) -> policy.ProfileProjection:
    return policy.read_own_data(resident_id=resident.pk)


@pytest.fixture
def resident(client):
    user = UserFactory.create()
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def test_the_profile_page_needs_a_login(client) -> None:
    response = client.get("/me/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_profile_page_offers_only_the_sections_the_resident_consented_to(
    client, resident
) -> None:
    grant(resident, "personalised_home", "age", "places")
    html = client.get("/me/profile/").content.decode()
    assert 'action="/me/profile/age/"' in html
    assert 'action="/me/places/"' in html
    assert 'action="/me/profile/location/"' not in html
    assert 'action="/me/profile/interests/"' not in html
    assert 'action="/me/children/"' not in html


def test_a_section_without_consent_says_so_and_links_to_the_purposes_that_ask_for_it(
    client, resident
) -> None:
    html = client.get("/me/profile/").content.decode()
    assert "You have not shared your precise home location" in html
    assert 'href="/consent/purposes/disaster_warnings/"' in html
    assert 'href="/consent/purposes/school_letters/"' in html


def test_the_birth_year_field_names_its_purpose_for_browsers(client, resident) -> None:
    """autocomplete="bday-year" (WCAG 1.3.5, identify input purpose)."""
    grant(resident, "personalised_home", "age")
    html = client.get("/me/profile/").content.decode()
    assert 'autocomplete="bday-year"' in html


def test_saving_the_birth_year_stores_it_and_returns_to_the_section(client, resident) -> None:
    grant(resident, "personalised_home", "age")
    response = client.post("/me/profile/age/", {"birth_year": "1985"})
    assert response.status_code == 302
    assert response["Location"] == "/me/profile/#age"
    assert own_data(resident).birth_year == 1985


def test_posting_a_section_without_consent_stores_nothing_and_says_why(client, resident) -> None:
    response = client.post("/me/profile/age/", {"birth_year": "1985"})
    assert response.status_code == 400
    assert "You have not agreed to share this information" in response.content.decode()
    assert own_data(resident).birth_year is None


def test_a_birth_year_of_1850_is_refused_next_to_the_field_and_the_old_one_kept(
    client, resident
) -> None:
    grant(resident, "personalised_home", "age")
    profile_services.profile_set_birth_year(resident_id=resident.pk, birth_year=1980)
    response = client.post("/me/profile/age/", {"birth_year": "1850"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'class="error-summary"' in html
    assert 'id="id_birth_year_error"' in html
    assert 'aria-describedby="id_birth_year_helptext id_birth_year_error"' in html
    assert "between 1900 and" in html
    assert own_data(resident).birth_year == 1980


def test_a_birth_year_that_is_not_a_number_is_refused(client, resident) -> None:
    grant(resident, "personalised_home", "age")
    response = client.post("/me/profile/age/", {"birth_year": "nineteen"})
    assert response.status_code == 400
    assert 'id="id_birth_year_error"' in response.content.decode()
    assert own_data(resident).birth_year is None


def test_one_refused_section_keeps_the_other_sections_on_the_page(client, resident) -> None:
    grant(resident, "personalised_home", "age", "interests")
    html = client.post("/me/profile/age/", {"birth_year": "1850"}).content.decode()
    assert 'action="/me/profile/interests/"' in html
    assert 'value="1850"' in html


def test_saving_language_and_accessibility_needs(client, resident) -> None:
    grant(resident, "personalised_home", "language")
    response = client.post(
        "/me/profile/language/", {"preferred_language": "en", "needs_large_text": "on"}
    )
    assert response.status_code == 302
    data = own_data(resident)
    assert (data.preferred_language, data.needs_large_text, data.needs_easy_japanese) == (
        "en",
        True,
        False,
    )


def test_a_tampered_language_is_refused_and_nothing_stored(client, resident) -> None:
    grant(resident, "personalised_home", "language")
    response = client.post("/me/profile/language/", {"preferred_language": "fr"})
    assert response.status_code == 400
    assert 'id="id_preferred_language_error"' in response.content.decode()
    assert own_data(resident).preferred_language is None


def test_a_home_location_copied_from_a_map_app_is_rounded_and_stored(client, resident) -> None:
    grant(resident, "disaster_warnings", "location")
    response = client.post(
        "/me/profile/location/", {"latitude": "37.4947612", "longitude": "139.9298081"}
    )
    assert response.status_code == 302
    assert own_data(resident).home_location == (Decimal("37.494761"), Decimal("139.929808"))


def test_a_home_location_outside_japan_is_refused_and_nothing_stored(client, resident) -> None:
    grant(resident, "disaster_warnings", "location")
    response = client.post("/me/profile/location/", {"latitude": "48.8566", "longitude": "2.3522"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "not in Japan" in html
    assert 'id="location-errors"' in html
    assert own_data(resident).home_location is None


def test_a_latitude_without_a_longitude_is_refused(client, resident) -> None:
    grant(resident, "disaster_warnings", "location")
    response = client.post("/me/profile/location/", {"latitude": "37.49", "longitude": ""})
    assert response.status_code == 400
    assert "Enter both latitude and longitude" in response.content.decode()
    assert own_data(resident).home_location is None


def test_interests_are_saved_from_the_checkboxes(client, resident) -> None:
    grant(resident, "personalised_home", "interests")
    page = client.get("/me/profile/").content.decode()
    assert 'type="checkbox" name="interests" value="sports"' in page
    response = client.post("/me/profile/interests/", {"interests": ["sports", "snow"]})
    assert response.status_code == 302
    assert set(own_data(resident).interests) == {"sports", "snow"}


def test_an_unknown_interest_is_refused_and_nothing_stored(client, resident) -> None:
    grant(resident, "personalised_home", "interests")
    response = client.post("/me/profile/interests/", {"interests": ["sports", "gambling"]})
    assert response.status_code == 400
    assert 'id="id_interests_error"' in response.content.decode()
    assert own_data(resident).interests == ()


def test_an_unknown_section_is_not_found(client, resident) -> None:
    assert client.post("/me/profile/household/", {}).status_code == 404


def test_sections_take_only_posts(client, resident) -> None:
    assert client.get("/me/profile/age/").status_code == 405


def test_posting_a_section_without_the_csrf_token_is_refused(resident) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(resident)
    grant(resident, "personalised_home", "age")
    assert strict.post("/me/profile/age/", {"birth_year": "1985"}).status_code == 403
    assert own_data(resident).birth_year is None


# ------------------------------------------------------------------------------------------------
# Places
# ------------------------------------------------------------------------------------------------


def neighbouring_district() -> Area:
    town = Area.objects.create(
        code="072087", kind=Area.Kind.MUNICIPALITY, name_ja="喜多方市", name_en="Kitakata"
    )
    return DistrictFactory.create(code="072087-shiozawa", parent=town, name_ja="塩川")


def test_the_area_select_groups_municipalities_districts_and_neighbourhoods(
    client, resident
) -> None:
    grant(resident, "personalised_home", "places")
    district = DistrictFactory.create(name_ja="鶴城", name_en="Kakujo")
    Area.objects.create(
        code="072028-kakujo-higashisakaemachi",
        kind=Area.Kind.NEIGHBOURHOOD,
        parent=district,
        name_ja="東栄町",
        name_en="Higashisakaemachi",
    )
    neighbouring_district()
    html = client.get("/me/profile/").content.decode()
    assert '<optgroup label="Aizuwakamatsu › Kakujo">' in html
    assert 'value="072028-kakujo-higashisakaemachi"' in html
    assert '<optgroup label="Kitakata">' in html
    assert 'value="072087-shiozawa"' in html


def test_adding_a_place_in_a_neighbouring_municipality_stores_it(client, resident) -> None:
    grant(resident, "personalised_home", "places")
    district = neighbouring_district()
    response = client.post("/me/places/", {"kind": "work", "area": district.code})
    assert response.status_code == 302
    assert response["Location"] == "/me/profile/#places"
    [place] = own_data(resident).places
    assert (place.kind, place.area_id) == ("work", district.pk)


def test_an_unknown_area_code_is_refused_next_to_the_field_and_nothing_stored(
    client, resident
) -> None:
    grant(resident, "personalised_home", "places")
    DistrictFactory.create()
    response = client.post("/me/places/", {"kind": "home", "area": "072028-atlantis"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_area_error"' in html
    assert 'class="error-summary"' in html
    assert own_data(resident).places == ()


def test_a_place_twice_is_refused_and_stored_once(client, resident) -> None:
    grant(resident, "personalised_home", "places")
    district = DistrictFactory.create()
    client.post("/me/places/", {"kind": "home", "area": district.code})
    response = client.post("/me/places/", {"kind": "home", "area": district.code})
    assert response.status_code == 400
    assert "already in your list" in response.content.decode()
    assert len(own_data(resident).places) == 1


def test_adding_a_place_without_consent_stores_nothing(client, resident) -> None:
    district = DistrictFactory.create()
    response = client.post("/me/places/", {"kind": "home", "area": district.code})
    assert response.status_code == 400
    assert own_data(resident).places == ()


def test_the_places_list_shows_each_place_with_a_remove_button(client, resident) -> None:
    grant(resident, "personalised_home", "places")
    district = DistrictFactory.create(name_en="Kakujo")
    place = profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=district.code
    )
    html = client.get("/me/profile/").content.decode()
    assert "Aizuwakamatsu › Kakujo" in html
    assert f'action="/me/places/{place.pk}/remove/"' in html


def test_removing_a_place_removes_it(client, resident) -> None:
    grant(resident, "personalised_home", "places")
    district = DistrictFactory.create()
    place = profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=district.code
    )
    response = client.post(f"/me/places/{place.pk}/remove/")
    assert response.status_code == 302
    assert own_data(resident).places == ()


def test_removing_another_residents_place_is_not_found_and_removes_nothing(
    client, resident
) -> None:
    other = UserFactory.create()
    grant(other, "personalised_home", "places")
    district = DistrictFactory.create()
    place = profile_services.place_add(resident_id=other.pk, kind="home", area_code=district.code)
    response = client.post(f"/me/places/{place.pk}/remove/")
    assert response.status_code == 404
    assert [p.id for p in own_data(other).places] == [place.pk]


def test_with_htmx_adding_a_place_returns_only_the_places_section(client, resident) -> None:
    grant(resident, "personalised_home", "places")
    district = DistrictFactory.create(name_en="Kakujo")
    response = client.post(
        "/me/places/", {"kind": "home", "area": district.code}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="places"')
    assert "<html" not in html
    assert "The place is added." in html
    assert len(own_data(resident).places) == 1


def test_with_htmx_a_refused_place_comes_back_in_the_section_with_its_error(
    client, resident
) -> None:
    grant(resident, "personalised_home", "places")
    response = client.post(
        "/me/places/", {"kind": "home", "area": "nowhere"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    # htmx swaps only 2xx responses, so the refusal is a 200 carrying the error.
    assert response.status_code == 200
    assert 'id="id_area_error"' in html
    assert "The place is added." not in html
    assert own_data(resident).places == ()


# ------------------------------------------------------------------------------------------------
# Children
# ------------------------------------------------------------------------------------------------


def elementary_school() -> School:
    return SchoolFactory.create(kind=School.Kind.ELEMENTARY)


def test_adding_a_child_stores_school_and_grade(client, resident) -> None:
    grant(resident, "school_letters", "household")
    school = elementary_school()
    response = client.post("/me/children/", {"school": school.code, "grade": "3"})
    assert response.status_code == 302
    assert response["Location"] == "/me/profile/#household"
    [child] = own_data(resident).children
    assert (child.school_id, child.grade) == (school.pk, 3)


def test_a_grade_out_of_range_for_the_school_is_refused_next_to_the_grade(client, resident) -> None:
    grant(resident, "school_letters", "household")
    school = elementary_school()
    response = client.post("/me/children/", {"school": school.code, "grade": "7"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_grade_error"' in html
    assert "grades 1 to 6" in html
    assert own_data(resident).children == ()


def test_a_grade_beyond_any_school_is_refused(client, resident) -> None:
    grant(resident, "school_letters", "household")
    school = elementary_school()
    response = client.post("/me/children/", {"school": school.code, "grade": "12"})
    assert response.status_code == 400
    assert 'id="id_grade_error"' in response.content.decode()
    assert own_data(resident).children == ()


def test_a_tampered_school_code_is_refused_next_to_the_school(client, resident) -> None:
    grant(resident, "school_letters", "household")
    elementary_school()
    response = client.post("/me/children/", {"school": "school-forged", "grade": "2"})
    assert response.status_code == 400
    assert 'id="id_school_error"' in response.content.decode()
    assert own_data(resident).children == ()


def test_removing_a_child_removes_it(client, resident) -> None:
    grant(resident, "school_letters", "household")
    school = elementary_school()
    child = profile_services.child_add(resident_id=resident.pk, school_code=school.code, grade=1)
    response = client.post(f"/me/children/{child.pk}/remove/")
    assert response.status_code == 302
    assert own_data(resident).children == ()


def test_removing_another_residents_child_is_not_found_and_removes_nothing(
    client, resident
) -> None:
    other = UserFactory.create()
    grant(other, "school_letters", "household")
    school = elementary_school()
    child = profile_services.child_add(resident_id=other.pk, school_code=school.code, grade=1)
    response = client.post(f"/me/children/{child.pk}/remove/")
    assert response.status_code == 404
    assert [c.id for c in own_data(other).children] == [child.pk]


def test_with_htmx_removing_a_child_returns_only_the_children_section(client, resident) -> None:
    grant(resident, "school_letters", "household")
    school = elementary_school()
    child = profile_services.child_add(resident_id=resident.pk, school_code=school.code, grade=1)
    response = client.post(f"/me/children/{child.pk}/remove/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="household"')
    assert "The child is removed." in html
    assert own_data(resident).children == ()


# ------------------------------------------------------------------------------------------------
# Removing asks first: a page of its own without JavaScript, a step in the list with htmx
# ------------------------------------------------------------------------------------------------


class _Forms(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.methods: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.methods[values.get("action") or ""] = values.get("method") or "get"


def form_methods(html: str) -> dict[str, str]:
    """The method of each form of a page, by its action."""
    return _Forms(html).methods


def own_place(resident, name_en: str = "Kakujo") -> int:
    grant(resident, "personalised_home", "places")
    district = DistrictFactory.create(name_en=name_en)
    return profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=district.code
    ).pk


def own_child(resident) -> int:
    grant(resident, "school_letters", "household")
    school = elementary_school()
    return profile_services.child_add(resident_id=resident.pk, school_code=school.code, grade=3).pk


def test_the_remove_button_of_a_place_leads_to_its_confirmation(client, resident) -> None:
    place_id = own_place(resident)
    html = client.get("/me/profile/").content.decode()
    assert form_methods(html)[f"/me/places/{place_id}/remove/"] == "get"


def test_asking_to_remove_a_place_names_it_and_removes_nothing(client, resident) -> None:
    place_id = own_place(resident)
    response = client.get(f"/me/places/{place_id}/remove/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Remove “Home: Aizuwakamatsu › Kakujo”?</h1>" in html
    assert form_methods(html)[f"/me/places/{place_id}/remove/"] == "post"
    assert [place.id for place in own_data(resident).places] == [place_id]


def test_the_confirmation_of_a_removal_cancels_back_to_the_list(client, resident) -> None:
    place_id = own_place(resident)
    html = client.get(f"/me/places/{place_id}/remove/").content.decode()
    assert '<a href="/me/profile/#places"' in html


def test_confirming_the_removal_of_a_place_removes_it(client, resident) -> None:
    place_id = own_place(resident)
    client.get(f"/me/places/{place_id}/remove/")
    response = client.post(f"/me/places/{place_id}/remove/")
    assert response.status_code == 302
    assert response["Location"] == "/me/profile/#places"
    assert own_data(resident).places == ()


def test_asking_to_remove_another_residents_place_is_not_found(client, resident) -> None:
    other = UserFactory.create()
    place_id = own_place(other)
    response = client.get(f"/me/places/{place_id}/remove/")
    assert response.status_code == 404
    assert "Kakujo" not in response.content.decode()
    assert [place.id for place in own_data(other).places] == [place_id]


def test_with_htmx_asking_to_remove_a_place_returns_only_the_step(client, resident) -> None:
    place_id = own_place(resident)
    response = client.get(f"/me/places/{place_id}/remove/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="confirm"')
    assert "<html" not in html
    assert "Remove “Home: Aizuwakamatsu › Kakujo”?" in html
    assert 'hx-target="#places"' in html
    assert response["Vary"].count("HX-Request") == 1


def test_asking_to_remove_a_child_names_it_and_removes_nothing(client, resident) -> None:
    child_id = own_child(resident)
    response = client.get(f"/me/children/{child_id}/remove/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "grade 3”?</h1>" in html
    assert [child.id for child in own_data(resident).children] == [child_id]


def test_asking_to_remove_another_residents_child_is_not_found(client, resident) -> None:
    other = UserFactory.create()
    child_id = own_child(other)
    assert client.get(f"/me/children/{child_id}/remove/").status_code == 404
    assert [child.id for child in own_data(other).children] == [child_id]
