"""/snow/ shows when a plow last passed each district: a table that works without JavaScript,
sortable by district or by time, refreshed in place by htmx."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from portal.snow.models import AreaPlowStatus
from portal.snow.services import vehicle_add
from tests.factories import DistrictFactory, MunicipalityFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_pages")]


@pytest.fixture
def districts() -> list:
    city = MunicipalityFactory.create(code="072028")
    kitaaizu = DistrictFactory.create(parent=city, code="072028-kitaaizu", name_en="Kitaaizu")
    kakujo = DistrictFactory.create(parent=city, code="072028-kakujo", name_en="Kakujo")
    AreaPlowStatus.objects.create(
        area=kitaaizu,
        last_plowed_at=datetime(2026, 12, 3, 20, 40, tzinfo=UTC),
        vehicle=vehicle_add(name="除雪1号"),
    )
    return [kakujo, kitaaizu]


def districts_in_order(page: str) -> list[str]:
    return [name for name in ("Kakujo", "Kitaaizu") if name in page]


def test_every_district_is_listed_with_when_it_was_last_plowed(client, districts) -> None:
    page = client.get("/snow/").text

    assert "05:40" in page or "5:40" in page
    assert "not yet" in page
    assert page.index("Kakujo") < page.index("Kitaaizu")


def test_the_table_sorts_by_most_recently_plowed(client, districts) -> None:
    page = client.get("/snow/?sort=time").text

    assert page.index("Kitaaizu") < page.index("Kakujo")


def test_an_unknown_sort_falls_back_to_the_district_order(client, districts) -> None:
    page = client.get("/snow/?sort=evil").text

    assert page.index("Kakujo") < page.index("Kitaaizu")


def test_htmx_gets_only_the_table_region(client, districts) -> None:
    response = client.get("/snow/?sort=time", HTTP_HX_REQUEST="true")

    assert response.text.lstrip().startswith('<div id="plow-status"')
    assert "<html" not in response.text


def test_the_table_alone_and_the_whole_page_are_cached_apart(client, districts) -> None:
    response = client.get("/snow/", HTTP_HX_REQUEST="true")

    assert "HX-Request" in response["Vary"]


def test_htmx_restoring_the_page_from_history_gets_it_whole(client, districts) -> None:
    response = client.get("/snow/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")

    assert "<html" in response.content.decode()


def test_the_page_needs_no_javascript_to_show_the_times(client, districts) -> None:
    page = client.get("/snow/").text

    assert "<table" in page and "<time datetime=" in page


def test_the_map_data_holds_each_plows_latest_position_track_and_the_areas(client) -> None:
    from datetime import timedelta

    import time_machine

    from portal.snow.positions import Fix
    from portal.snow.services import positions_record

    now = datetime(2026, 12, 3, 20, 40, tzinfo=UTC)
    city = MunicipalityFactory.create(code="072028")
    DistrictFactory.create(parent=city, code="072028-k", latitude=37.49, longitude=139.87)
    plow = vehicle_add(name="除雪1号")
    positions_record(
        vehicle_id=plow.pk,
        fixes=[
            Fix(now - timedelta(seconds=40), 37.4900, 139.8700, working=True),
            Fix(now - timedelta(seconds=20), 37.4910, 139.8710, working=False),
        ],
    )

    with time_machine.travel(now, tick=False):
        features = client.get("/snow/map.json").json()["features"]

    kinds = {f["properties"]["kind"]: f for f in features}
    assert kinds["vehicle"]["geometry"]["coordinates"] == [139.871, 37.491]
    assert kinds["vehicle"]["properties"]["working"] is False
    assert len(kinds["track"]["geometry"]["coordinates"]) == 2
    assert kinds["area"]["properties"]["at"] is None


def test_the_map_is_hidden_until_javascript_shows_it(client, districts) -> None:
    page = client.get("/snow/").text

    assert 'id="plow-map"' in page
    assert "hidden" in page.split('id="plow-map"')[1].split(">")[0]
    assert re.search(r'<script src="[^"]*/vendor/leaflet/leaflet[.\w]*\.js"', page)
