""" "My data": what is stored, what may use it, how it was used; and the download of it all."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import timezone

from consent import policy
from consent.catalogue import Category
from consent.models import ConsentEvent, DataUseEvent
from portal.models import Area, School
from portal.residents import services as profile_services
from tests.factories import DistrictFactory, SchoolFactory, UserFactory
from tests.helpers import grant

pytestmark = pytest.mark.django_db

SCORER = policy.Reader(kind="task", name="test scorer", recipient="city")
EVERYTHING = Category.values
EXPORT_SECTIONS = {
    "exported_at",
    "account",
    "profile",
    "places",
    "children",
    "interests",
    "consents",
    "receipts",
    "data_use_log",
    "interactions",
    "notifications",
}


@pytest.fixture
def resident(client):
    user = UserFactory.create(email="hanako@example.jp")
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def fill_everything(resident, *, district: Area, school: School, birth_year: int = 1985) -> None:
    """Consent to every profile category and store one attribute of each."""
    grant(resident, "personalised_home", "age", "places", "household", "interests", "language")
    grant(resident, "disaster_warnings", "places", "location")
    grant(resident, "school_letters", "household")
    profile_services.profile_set_birth_year(resident_id=resident.pk, birth_year=birth_year)
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    profile_services.child_add(resident_id=resident.pk, school_code=school.code, grade=2)
    profile_services.profile_set_interests(resident_id=resident.pk, interest_codes=["snow"])
    profile_services.profile_set_language(
        resident_id=resident.pk, preferred_language="en", large_text=True, easy_japanese=False
    )
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.494761"), longitude=Decimal("139.929808")
    )


def section(html: str, element_id: str) -> str:
    """The markup of one <section id=…> of the page."""
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


# ------------------------------------------------------------------------------------------------
# The page
# ------------------------------------------------------------------------------------------------


def test_my_data_needs_a_login(client) -> None:
    response = client.get("/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_my_data_lists_each_stored_attribute_with_the_purposes_that_may_use_it(
    client, resident
) -> None:
    district = DistrictFactory.create(name_en="Kakujo")
    fill_everything(resident, district=district, school=SchoolFactory.create(name_en="Nisshin"))
    html = client.get("/me/").content.decode()

    places = section(html, "category-places")
    assert "Aizuwakamatsu › Kakujo" in places
    assert "Personalised home page" in places
    assert "Disaster warnings for my areas" in places
    assert 'href="/consent/categories/places/withdraw/"' in places

    household = section(html, "category-household")
    assert "Nisshin, grade 2" in household
    assert "School letters for my children" in household

    assert "1985" in section(html, "category-age")
    assert "Snow clearing" in section(html, "category-interests")
    assert "English" in section(html, "category-language")
    assert "139.929808" in section(html, "category-location")


def test_a_category_not_shared_says_so_and_offers_no_withdrawal(client, resident) -> None:
    html = client.get("/me/").content.decode()
    location = section(html, "category-location")
    assert "Nothing is stored." in location
    assert "Not shared" in location
    assert "/withdraw/" not in location


def test_my_data_says_in_plain_words_how_often_each_category_was_used(client, resident) -> None:
    grant(resident, "personalised_home", "places")
    profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=DistrictFactory.create().code
    )
    for _ in range(14):
        policy.read_profile(
            resident_id=resident.pk,
            purpose="personalised_home",
            reader=SCORER,
            categories=EVERYTHING,
        )
    html = client.get("/me/").content.decode()
    assert (
        "In the last 7 days, the portal used your places 14 times to personalise your home page."
        in html
    )


def test_a_single_use_is_told_in_the_singular(client, resident) -> None:
    grant(resident, "disaster_warnings", "location")
    policy.read_profile(
        resident_id=resident.pk, purpose="disaster_warnings", reader=SCORER, categories=EVERYTHING
    )
    html = client.get("/me/").content.decode()
    assert "the portal used your precise home location 1 time to warn you of disasters" in html


def test_the_residents_own_look_at_their_data_is_not_counted_as_a_use(client, resident) -> None:
    grant(resident, "personalised_home", "places")
    client.get("/me/")
    html = client.get("/me/").content.decode()
    assert "In the last 7 days, no purpose used your data." in html


def test_uses_are_listed_per_day_and_purpose_in_plain_words(client, resident) -> None:
    grant(resident, "personalised_home", "places", "interests")
    for _ in range(3):
        policy.read_profile(
            resident_id=resident.pk,
            purpose="personalised_home",
            reader=SCORER,
            categories=["places", "interests"],
        )
    html = section(client.get("/me/").content.decode(), "use-days")
    assert f'datetime="{timezone.localdate().isoformat()}"' in html
    assert "<dt>To personalise your home page</dt>" in html
    assert (
        "<dd>Your places and your interests, 3 times, on behalf of the city, "
        "by a background task (test scorer).</dd>"
    ) in html


def test_the_list_of_uses_names_only_the_categories_read(client, resident) -> None:
    grant(resident, "personalised_home", "age", "places", "interests")
    policy.read_profile(
        resident_id=resident.pk, purpose="personalised_home", reader=SCORER, categories=["places"]
    )
    html = section(client.get("/me/").content.decode(), "use-days")
    assert "Your places, 1 time," in html
    assert "age band" not in html
    assert "interests" not in html


def test_reader_names_are_shown_in_the_residents_language(client, resident) -> None:
    grant(resident, "disaster_warnings", "places")
    profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=DistrictFactory.create().code
    )
    client.get("/")  # the home page reads the places to list the shelters of the resident's areas
    english = section(client.get("/me/").content.decode(), "use-days")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ja"
    japanese = section(client.get("/me/").content.decode(), "use-days")
    assert "by a page of the portal (the warnings and shelters on your home page)" in english
    assert "トップページの警報と避難所の案内" in japanese
    assert "home page" not in japanese


def test_the_summary_agrees_with_the_days_listed(client, resident) -> None:
    grant(resident, "personalised_home", "places")
    for _ in range(2):
        policy.read_profile(
            resident_id=resident.pk,
            purpose="personalised_home",
            reader=SCORER,
            categories=["places"],
        )
    html = client.get("/me/").content.decode()
    assert "the portal used your places 2 times to personalise your home page" in html
    assert "Your places, 2 times," in section(html, "use-days")


def test_the_consent_history_links_to_each_receipt(client, resident) -> None:
    event = grant(resident, "personalised_home", "places")
    html = client.get("/me/").content.decode()
    assert f'href="/consent/receipts/{event.public_id}/"' in html
    assert f'href="/consent/receipts/{event.public_id}.json"' in html


def test_my_data_links_to_download_edit_and_delete(client, resident) -> None:
    html = client.get("/me/").content.decode()
    assert 'href="/me/data.json"' in html
    assert 'href="/me/profile/"' in html
    assert 'href="/me/delete/"' in html


def test_looking_at_my_data_is_not_logged_as_a_use_of_it(client, resident) -> None:
    """Today's page views would flood the log and contradict the summary above it."""
    fill_everything(resident, district=DistrictFactory.create(), school=SchoolFactory.create())
    client.get("/me/")
    client.get("/me/profile/")
    client.get("/me/data.json")
    html = client.get("/me/").content.decode()
    assert not DataUseEvent.objects.filter(resident=resident).exists()
    assert "Your data was not used on these days." in html


# ------------------------------------------------------------------------------------------------
# The download
# ------------------------------------------------------------------------------------------------


def export(client) -> dict:
    response = client.get("/me/data.json")
    assert response.status_code == 200
    return json.loads(response.content.decode("utf-8"))


def test_the_export_needs_a_login(client) -> None:
    response = client.get("/me/data.json")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_export_is_a_utf8_json_attachment(client, resident) -> None:
    response = client.get("/me/data.json")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="machiplus-my-data.json"'
    assert "no-store" in response["Cache-Control"]


def test_the_export_has_every_section(client, resident) -> None:
    assert set(export(client)) == EXPORT_SECTIONS


def test_the_export_holds_all_of_the_residents_data(client, resident) -> None:
    district = DistrictFactory.create(name_ja="鶴城")
    school = SchoolFactory.create()
    fill_everything(resident, district=district, school=school)
    policy.read_profile(
        resident_id=resident.pk, purpose="personalised_home", reader=SCORER, categories=EVERYTHING
    )

    document = export(client)

    assert document["account"]["email"] == "hanako@example.jp"
    assert document["account"]["pseudonym"] == str(resident.pseudonym)
    assert document["profile"] == {
        "birth_year": 1985,
        "age_band": policy.age_band(1985),
        "preferred_language": "en",
        "needs_large_text": True,
        "needs_easy_japanese": False,
        "home_location": {"latitude": "37.494761", "longitude": "139.929808"},
    }
    assert document["places"] == [
        {
            "kind": "home",
            "area_code": district.code,
            "area_name_ja": "鶴城",
            "area_name_en": district.name_en,
        }
    ]
    assert [(c["school_code"], c["grade"]) for c in document["children"]] == [(school.code, 2)]
    assert document["interests"] == ["snow"]
    assert {(c["purpose"], c["category"], c["status"]) for c in document["consents"]} >= {
        ("disaster_warnings", "location", "granted"),
        ("school_letters", "household", "granted"),
    }
    assert len(document["receipts"]) == 3
    assert {use["reader"]["name"] for use in document["data_use_log"]} >= {"test scorer"}
    assert document["interactions"] == []


def test_the_export_lists_each_day_of_use_with_how_many_reads_it_counts(client, resident) -> None:
    grant(resident, "personalised_home", "places", "interests")
    for _ in range(2):
        policy.read_profile(
            resident_id=resident.pk,
            purpose="personalised_home",
            reader=SCORER,
            categories=["places"],
        )

    (use,) = export(client)["data_use_log"]

    assert use["day"] == timezone.localdate().isoformat()
    assert (use["purpose"], use["categories"], use["uses"]) == ("personalised_home", ["places"], 2)
    assert use["first_at"] <= use["last_at"]
    assert use["reader"] == {"kind": "task", "name": "test scorer"}
    assert use["on_behalf_of"] == "city"


def test_the_export_has_one_receipt_per_ledger_event(client, resident) -> None:
    first = grant(resident, "personalised_home", "places")
    second = grant(resident, "disaster_warnings", "location")
    receipts = json.dumps(export(client)["receipts"])
    assert str(first.public_id) in receipts
    assert str(second.public_id) in receipts
    assert ConsentEvent.objects.filter(subject_pseudonym=resident.pseudonym).count() == 2


def test_the_export_keeps_japanese_text_readable(client, resident) -> None:
    fill_everything(
        resident, district=DistrictFactory.create(name_ja="鶴城"), school=SchoolFactory.create()
    )
    assert "鶴城" in client.get("/me/data.json").content.decode("utf-8")


def leaf_values(document: object) -> list[object]:
    if isinstance(document, dict):
        return [leaf for value in document.values() for leaf in leaf_values(value)]
    if isinstance(document, list):
        return [leaf for value in document for leaf in leaf_values(value)]
    return [document]


def test_the_export_contains_nothing_of_another_resident(client, resident) -> None:
    fill_everything(
        resident, district=DistrictFactory.create(), school=SchoolFactory.create(), birth_year=1985
    )
    other = UserFactory.create(email="neighbour@example.jp")
    other_district = DistrictFactory.create(code="072028-other-district")
    other_school = SchoolFactory.create(code="school-of-the-other")
    fill_everything(other, district=other_district, school=other_school, birth_year=1961)
    profile_services.profile_set_interests(resident_id=other.pk, interest_codes=["tourism"])
    other_grant = ConsentEvent.objects.filter(subject_pseudonym=other.pseudonym).first()
    assert other_grant is not None
    policy.read_profile(
        resident_id=other.pk, purpose="personalised_home", reader=SCORER, categories=EVERYTHING
    )

    body = client.get("/me/data.json").content.decode("utf-8")
    document = json.loads(body)

    for secret in (
        "neighbour@example.jp",
        str(other.pseudonym),
        other_district.code,
        other_school.code,
        "tourism",
        str(other_grant.public_id),
        "test scorer",
    ):
        assert secret not in body
    # A value, not a substring: "1961" may well occur inside a timestamp or an identifier.
    assert not {1961, "1961"} & set(leaf_values(document))
    assert len(document["places"]) == 1
    assert len(document["children"]) == 1
    assert len(document["receipts"]) == 3
