"""``simulate_plows`` drives plows through the areas and posts through the real HTTP API with
real tokens: what it posts is accepted, and the vehicles move."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from portal.places.geometry import distance_km
from portal.snow.models import PlowPosition, Vehicle
from portal.snow.simulation import SimulatedPlow, plan_routes
from tests.factories import DistrictFactory, MunicipalityFactory

POINTS = [(37.492263, 139.873312), (37.4878, 139.9297), (37.5050, 139.9300), (37.4700, 139.9500)]


def test_a_simulated_plow_moves_at_its_speed_along_its_route() -> None:
    plow = SimulatedPlow(name="p", token="t", route=list(POINTS[:2]), speed_kmh=18)
    before = plow.position()[:2]

    plow.drive(20)

    moved = distance_km(*before, *plow.position()[:2])
    assert moved == pytest.approx(0.1, rel=0.01)  # 18 km/h for 20 s


def test_a_plow_turns_back_at_the_end_of_its_route() -> None:
    plow = SimulatedPlow(name="p", token="t", route=list(POINTS[:2]), speed_kmh=18)

    plow.drive(3600 * 10)  # far beyond the route's 5 km

    assert plow.leg == 0


def test_routes_stay_among_nearby_points() -> None:
    routes = plan_routes(POINTS, 5, stops=3)

    assert len(routes) == 5
    assert all(len(route) == 3 and set(route) <= set(POINTS) for route in routes)


def test_a_fix_is_what_the_api_takes() -> None:
    plow = SimulatedPlow(name="p", token="t", route=list(POINTS[:2]), speed_kmh=18)

    fix = plow.fix(datetime(2026, 12, 3, 20, 40, tzinfo=UTC), working=True)

    assert set(fix) == {"time", "lat", "lon", "working", "heading", "speed"}
    assert 0 <= fix["heading"] < 360  # type: ignore[operator]


@pytest.mark.django_db(transaction=True)
def test_simulate_plows_posts_through_the_real_api(live_server, capsys) -> None:
    city = MunicipalityFactory.create(code="072028", latitude=37.4948, longitude=139.9298)
    for number, (lat, lon) in enumerate(POINTS):
        DistrictFactory.create(parent=city, code=f"072028-d{number}", latitude=lat, longitude=lon)

    call_command(
        "simulate_plows", "--vehicles", "3", "--interval", "1", "--duration", "2.5",
        "--url", live_server.url,
    )  # fmt: skip

    assert Vehicle.objects.count() == 3
    assert PlowPosition.objects.values("vehicle").distinct().count() == 3
    assert PlowPosition.objects.count() >= 6
    out = capsys.readouterr()
    assert "0 refused" in out.out.splitlines()[-1], out.err


@pytest.mark.django_db(transaction=True)
def test_a_second_run_sets_off_from_where_the_first_stopped(live_server, capsys) -> None:
    city = MunicipalityFactory.create(code="072028", latitude=37.4948, longitude=139.9298)
    for number, (lat, lon) in enumerate(POINTS):
        DistrictFactory.create(parent=city, code=f"072028-d{number}", latitude=lat, longitude=lon)
    run = [
        "simulate_plows", "--vehicles", "3", "--interval", "1", "--duration", "2.5",
        "--speed-up", "40", "--url", live_server.url,
    ]  # fmt: skip
    call_command(*run)
    capsys.readouterr()

    call_command(*run)

    out = capsys.readouterr()
    assert "0 refused" in out.out.splitlines()[-1], out.err
