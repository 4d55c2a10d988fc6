"""Point in a CAP polygon (ray casting) and in a CAP circle (haversine)."""

from __future__ import annotations

import pytest

from portal.feeds.parsing.documents import Circle, Polygon
from portal.feeds.parsing.geometry import point_in_circle, point_in_polygon
from portal.places.geometry import distance_km

# Roughly 北会津 (the polygon of tests/feeds/fixtures/cap/aizu/aizu_heavy_snow_alert.xml).
KITAAIZU = Polygon(
    points=(
        (37.430, 139.880),
        (37.432, 139.975),
        (37.468, 139.980),
        (37.500, 139.962),
        (37.497, 139.885),
        (37.430, 139.880),
    )
)
# A "C" open to the east: its notch is outside although the box around it holds it.
C_SHAPE = Polygon(points=((0, 0), (0, 3), (1, 3), (1, 1), (2, 1), (2, 3), (3, 3), (3, 0), (0, 0)))
AIZUWAKAMATSU_STATION = (37.5078, 139.9307)
FUKUSHIMA_STATION = (37.7543, 140.4595)


def around_aizuwakamatsu_station(*, radius_km: float) -> Circle:
    latitude, longitude = AIZUWAKAMATSU_STATION
    return Circle(latitude=latitude, longitude=longitude, radius_km=radius_km)


def test_a_point_in_kitaaizu_is_inside_the_kitaaizu_polygon() -> None:
    assert point_in_polygon(37.46, 139.93, KITAAIZU)


def test_aizuwakamatsu_station_north_of_kitaaizu_is_outside_it() -> None:
    assert not point_in_polygon(*AIZUWAKAMATSU_STATION, KITAAIZU)


def test_a_point_in_the_notch_of_a_concave_polygon_is_outside() -> None:
    assert not point_in_polygon(1.5, 2.0, C_SHAPE)


@pytest.mark.parametrize("point", [(0.5, 2.0), (2.5, 2.0), (1.5, 0.5)])
def test_points_in_the_arms_of_a_concave_polygon_are_inside(point: tuple[float, float]) -> None:
    assert point_in_polygon(*point, C_SHAPE)


def test_a_ray_through_a_vertex_counts_it_once() -> None:
    # Eastward rays along latitude 1 run through the C's vertices (1, 1) and (1, 3): counted
    # twice, they would put the point west of the C inside it.
    assert not point_in_polygon(1.0, -1.0, C_SHAPE)
    assert point_in_polygon(1.0, 0.5, C_SHAPE)


def test_a_point_beyond_the_polygon_in_any_direction_is_outside() -> None:
    for lat, lon in [(-1, 1.5), (4, 1.5), (1.5, -1), (1.5, 4)]:
        assert not point_in_polygon(lat, lon, C_SHAPE)


def test_the_distance_from_aizuwakamatsu_to_fukushima_station_is_about_54_km() -> None:
    assert distance_km(*AIZUWAKAMATSU_STATION, *FUKUSHIMA_STATION) == pytest.approx(54.0, abs=0.5)


def test_one_degree_of_longitude_on_the_equator_is_about_111_km() -> None:
    assert distance_km(0, 0, 0, 1) == pytest.approx(111.2, abs=0.1)


def test_a_point_within_the_radius_is_in_the_circle() -> None:
    circle = around_aizuwakamatsu_station(radius_km=60)
    assert point_in_circle(*FUKUSHIMA_STATION, circle)


def test_a_point_beyond_the_radius_is_outside_the_circle() -> None:
    circle = around_aizuwakamatsu_station(radius_km=50)
    assert not point_in_circle(*FUKUSHIMA_STATION, circle)


def test_a_circle_of_radius_zero_holds_its_centre() -> None:
    circle = Circle(latitude=37.5, longitude=139.9, radius_km=0)
    assert point_in_circle(37.5, 139.9, circle)


def test_antipodal_points_are_half_the_earth_apart_without_a_math_error() -> None:
    assert distance_km(10, 20, -10, -160) == pytest.approx(20015, abs=5)
