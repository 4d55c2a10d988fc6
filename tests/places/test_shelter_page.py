"""/shelters/: sites by name or nearest first, filtered by district and hazard, a page at a time,
with the map's GeoJSON beside it."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from consent.models import DataUseEvent
from portal.models import Area
from portal.places.geometry import distance_m
from portal.places.pages import PAGE_SIZE
from portal.residents import services as profile_services
from tests.factories import DistrictFactory, ShelterFactory, UserFactory
from tests.helpers import grant

pytestmark = pytest.mark.django_db

TSURUGA_JO = (37.488, 139.93)


def names_in_order(html: str) -> list[str]:
    return re.findall(r'class="shelter-card__name"[^>]*>([^<]+)</h3>', html)


def shelter_at(name: str, latitude: str, longitude: str, **fields: object) -> object:
    return ShelterFactory.create(
        name_ja=name, latitude=Decimal(latitude), longitude=Decimal(longitude), **fields
    )


def test_sites_are_listed_by_name_a_page_at_a_time(client) -> None:
    for number in range(PAGE_SIZE + 3):
        ShelterFactory.create(name_ja=f"避難所{number:03d}")

    first = client.get("/shelters/").content.decode()
    second = client.get("/shelters/", {"page": 2}).content.decode()

    assert names_in_order(first) == [f"避難所{n:03d}" for n in range(PAGE_SIZE)]
    assert names_in_order(second) == [f"避難所{n:03d}" for n in range(PAGE_SIZE, PAGE_SIZE + 3)]


def test_the_page_links_keep_the_district_and_the_hazard(client) -> None:
    district = DistrictFactory.create()
    for _ in range(PAGE_SIZE + 1):
        ShelterFactory.create(area=district, for_flood=True)

    html = client.get("/shelters/", {"area": district.code, "hazard": "flood"}).content.decode()

    assert f"?area={district.code}&amp;hazard=flood&amp;page=2" in html


def test_the_hazard_filter_keeps_the_sites_designated_for_it(client) -> None:
    ShelterFactory.create(name_ja="洪水に使える", for_flood=True)
    ShelterFactory.create(name_ja="地震だけ", for_flood=False, for_earthquake=True)

    html = client.get("/shelters/", {"hazard": "flood"}).content.decode()

    assert names_in_order(html) == ["洪水に使える"]


def test_a_district_takes_in_the_sites_of_its_neighbourhoods(client) -> None:
    district = DistrictFactory.create()
    neighbourhood = Area.objects.create(
        code="072028-n-1", kind=Area.Kind.NEIGHBOURHOOD, parent=district, name_ja="町内"
    )
    ShelterFactory.create(name_ja="町内の避難所", area=neighbourhood)
    ShelterFactory.create(name_ja="よその避難所")

    html = client.get("/shelters/", {"area": district.code}).content.decode()

    assert names_in_order(html) == ["町内の避難所"]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"hazard": "meteor"}, "Select a valid choice"),
        ({"area": "no-such-district"}, "There is no district with this code"),
        ({"near": "moon"}, "Select a valid choice"),
        ({"near": "here"}, "Your position did not reach us"),
        ({"near": "here", "lat": "91", "lon": "139.9"}, "less than or equal to 90"),
        ({"near": "here", "lat": "nan", "lon": "139.9"}, "Enter a number"),
        ({"near": "here", "lat": "37.5", "lon": "east"}, "Enter a number"),
        ({"lat": "37.5", "lon": "139.9"}, "A position is only used with"),
    ],
)
def test_a_bad_search_is_refused_with_a_clear_error_and_lists_nothing(
    client, english_pages, query, error
) -> None:
    ShelterFactory.create(name_ja="どこかの避難所")

    response = client.get("/shelters/", query)

    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and error in html
    assert names_in_order(html) == []


def test_where_i_am_lists_the_nearest_sites_first_with_their_distance(
    client, english_pages
) -> None:
    shelter_at("遠い", "37.5600", "139.9300")
    shelter_at("近い", "37.4880", "139.9306")
    shelter_at("中くらい", "37.5000", "139.9300")

    html = client.get(
        "/shelters/", {"near": "here", "lat": TSURUGA_JO[0], "lon": TSURUGA_JO[1]}
    ).content.decode()

    assert names_in_order(html) == ["近い", "中くらい", "遠い"]
    near = round(distance_m(*TSURUGA_JO, 37.4880, 139.9306))
    middle = distance_m(*TSURUGA_JO, 37.5000, 139.9300) / 1000
    assert f"about {near} m" in html and f"about {middle:.1f} km" in html
    assert "nearest first from where you are" in html


def test_where_i_am_is_rounded_to_about_a_hundred_metres_in_the_links(client) -> None:
    for _ in range(PAGE_SIZE + 1):
        ShelterFactory.create()

    html = client.get(
        "/shelters/", {"near": "here", "lat": "37.487612345", "lon": "139.929876543"}
    ).content.decode()

    assert "near=here&amp;lat=37.488&amp;lon=139.93&amp;page=2" in html
    assert '<input type="hidden" name="lat" value="37.488">' in html


def test_sites_at_one_spot_keep_their_order_from_page_to_page(client) -> None:
    created = [ShelterFactory.create() for _ in range(PAGE_SIZE + 5)]
    query = {"near": "here", "lat": "37.5", "lon": "139.9"}

    first = names_in_order(client.get("/shelters/", query).content.decode())
    second = names_in_order(client.get("/shelters/", {**query, "page": 2}).content.decode())

    assert first + second == [shelter.name_ja for shelter in created]


def test_nearest_to_my_home_uses_the_home_shared_for_disaster_warnings(client) -> None:
    shelter_at("遠い", "37.5600", "139.9300")
    shelter_at("近い", "37.4951", "139.9301")
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "location")
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.4950"), longitude=Decimal("139.9300")
    )
    client.force_login(resident)

    html = client.get("/shelters/", {"near": "home"}).content.decode()

    assert names_in_order(html) == ["近い", "遠い"]
    use = DataUseEvent.objects.get(resident=resident)
    assert (use.purpose_code, use.category_codes) == ("disaster_warnings", ["location"])


def test_the_shared_home_is_not_written_into_the_page(client) -> None:
    ShelterFactory.create()
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "location")
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.512345"), longitude=Decimal("139.954321")
    )
    client.force_login(resident)

    html = client.get("/shelters/", {"near": "home"}).content.decode()

    assert "37.512" not in html and "139.954" not in html
    assert "data-position" not in html


def test_without_a_home_or_places_shared_the_sites_are_listed_by_name(
    client, english_pages
) -> None:
    shelter_at("い", "37.5600", "139.9300")
    shelter_at("あ", "37.4951", "139.9301")
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "language")
    client.force_login(resident)

    html = client.get("/shelters/", {"near": "home"}).content.decode()

    assert "You have not shared your home" in html
    assert names_in_order(html) == ["あ", "い"]
    assert not DataUseEvent.objects.filter(resident=resident).exists()


def test_shared_places_without_a_home_list_the_sites_in_those_areas(client) -> None:
    mine = DistrictFactory.create(name_ja="北会津")
    ShelterFactory.create(name_ja="私の地区の避難所", area=mine)
    ShelterFactory.create(name_ja="よその避難所")
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=mine.code)
    client.force_login(resident)

    html = client.get("/shelters/", {"near": "home"}).content.decode()

    assert names_in_order(html) == ["私の地区の避難所"]
    assert "北会津" in html


def test_nearest_to_my_home_asks_a_visitor_to_log_in(client, english_pages) -> None:
    ShelterFactory.create(name_ja="避難所")

    html = client.get("/shelters/", {"near": "home"}).content.decode()

    assert "/accounts/login/?next=%2Fshelters%2F%3Fnear%3Dhome" in html
    assert names_in_order(html) == ["避難所"]


def test_english_pages_use_english_names_where_the_data_has_them(client, english_pages) -> None:
    district = DistrictFactory.create(name_ja="北会津", name_en="Kitaaizu")
    ShelterFactory.create(name_ja="鶴城小学校", name_en="Kakujo Elementary School", area=district)
    ShelterFactory.create(name_ja="名無しの避難所", name_en="", area=district)

    html = client.get("/shelters/").content.decode()

    assert ">Kakujo Elementary School</h3>" in html
    # A name with no English form stays Japanese, marked so for screen readers (WCAG 3.1.2).
    assert re.search(
        r'<h3 class="shelter-card__name" id="shelter-\d+" lang="ja">名無しの避難所', html
    )
    assert "Kitaaizu" in html


def test_the_map_data_is_geojson_of_every_site_of_the_search(client) -> None:
    flood = ShelterFactory.create(name_ja="洪水", for_flood=True, kind="emergency")
    ShelterFactory.create(name_ja="地震", for_flood=False)

    response = client.get("/shelters/map.json", {"hazard": "flood"})

    collection = response.json()
    assert response["Content-Type"] == "application/json"
    assert [feature["id"] for feature in collection["features"]] == [flood.pk]
    feature = collection["features"][0]
    assert feature["geometry"] == {
        "type": "Point",
        "coordinates": [float(flood.longitude), float(flood.latitude)],
    }
    assert feature["properties"]["name"] == "洪水"
    assert feature["properties"]["kind"] == "emergency"


def test_the_map_data_names_sites_in_english_on_an_english_page(client, english_pages) -> None:
    ShelterFactory.create(name_ja="鶴城小学校", name_en="Kakujo Elementary School", for_flood=True)

    properties = client.get("/shelters/map.json").json()["features"][0]["properties"]

    assert (properties["name"], properties["nameLang"]) == ("Kakujo Elementary School", "en")
    assert "flood" in properties["hazards"]


def test_a_bad_map_query_is_refused_with_reasons(client, english_pages) -> None:
    response = client.get("/shelters/map.json", {"hazard": "meteor"})

    assert response.status_code == 400
    assert "hazard" in json.loads(response.content)["errors"]


def test_the_page_points_the_map_at_its_search(client) -> None:
    district = DistrictFactory.create()
    ShelterFactory.create(area=district)

    html = client.get("/shelters/", {"area": district.code, "page": "1"}).content.decode()

    assert f'data-map-source="/shelters/map.json?area={district.code}"' in html


def test_each_district_offered_counts_the_sites_of_its_neighbourhoods(client) -> None:
    district = DistrictFactory.create(name_ja="北会津")
    neighbourhood = Area.objects.create(
        code="072028-n-2", kind=Area.Kind.NEIGHBOURHOOD, parent=district, name_ja="町内"
    )
    ShelterFactory.create(area=district)
    ShelterFactory.create(area=neighbourhood)
    DistrictFactory.create(name_ja="避難所のない地区")

    html = client.get("/shelters/").content.decode()

    assert f'<option value="{district.code}" >北会津 (2)</option>' in html
    assert "避難所のない地区" not in html


def test_distances_from_the_home_are_rounded_to_a_hundred_metres(client, english_pages) -> None:
    shelter_at("近い", "37.4950", "139.9330")  # about 265 m east of the home
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "location")
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.4950"), longitude=Decimal("139.9300")
    )
    client.force_login(resident)

    html = client.get("/shelters/", {"near": "home"}).content.decode()

    assert "about 300 m" in html


def test_a_signed_in_residents_pages_stay_out_of_the_htmx_history_cache(client) -> None:
    client.force_login(UserFactory.create())

    html = client.get("/shelters/", {"near": "home"}).content.decode()

    assert 'hx-history="false"' in html


def test_a_visitors_pages_may_use_the_htmx_history_cache(client) -> None:
    assert 'hx-history="false"' not in client.get("/shelters/").content.decode()


def test_the_map_of_my_places_shows_only_the_sites_the_list_shows(client) -> None:
    mine = DistrictFactory.create()
    inside = ShelterFactory.create(area=mine)
    ShelterFactory.create()
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=mine.code)
    client.force_login(resident)

    html = client.get("/shelters/", {"near": "home"}).content.decode()
    response = client.get("/shelters/map.json", {"near": "home"})

    assert 'data-map-source="/shelters/map.json?near=home"' in html
    assert [feature["id"] for feature in response.json()["features"]] == [inside.pk]
    assert "max-age" not in response.get("Cache-Control", "")


def test_listing_by_name_again_leaves_the_home_out(client) -> None:
    ShelterFactory.create()
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "location")
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.4950"), longitude=Decimal("139.9300")
    )
    client.force_login(resident)

    html = client.get("/shelters/", {"near": "home", "hazard": "earthquake"}).content.decode()

    assert '<a href="/shelters/?hazard=earthquake">' in html
