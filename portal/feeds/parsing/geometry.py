"""Is a point inside a CAP polygon or circle?

The store asks this of each portal area's *representative point* (its centre, or its town
hall), not of the area's outline: an alert polygon that covers part of a district without
covering that point does not reach it. That approximation is deliberate: the city's areas are
small next to the alerts a CAP feed sends (a weather warning covers many districts), and
outlines of every 町 and 字 are data the portal does not hold.

Both functions treat latitude and longitude as plane coordinates (polygon) or use a spherical
earth (circle); at the scale of a city either errs by metres, well below what an alert means.
"""

from __future__ import annotations

from portal.feeds.parsing.documents import Circle, Polygon
from portal.places.geometry import distance_km


def point_in_polygon(lat: float, lon: float, polygon: Polygon) -> bool:
    """Ray casting: a ray from the point crosses the outline an odd number of times iff the
    point is inside. A point exactly on an edge may fall either way."""
    inside = False
    points = polygon.points
    for (lat_a, lon_a), (lat_b, lon_b) in zip(points, points[1:] + points[:1], strict=True):
        if _crosses_eastward_ray(lat, lon, lat_a, lon_a, lat_b, lon_b):
            inside = not inside
    return inside


def _crosses_eastward_ray(
    lat: float, lon: float, lat_a: float, lon_a: float, lat_b: float, lon_b: float
) -> bool:
    # The half-open test (one end strictly above, the other not) counts a vertex the ray
    # passes through once, not twice, and skips horizontal edges (no division by zero).
    if (lat_a > lat) == (lat_b > lat):
        return False
    lon_at_lat = lon_a + (lat - lat_a) * (lon_b - lon_a) / (lat_b - lat_a)
    return lon < lon_at_lat


def point_in_circle(lat: float, lon: float, circle: Circle) -> bool:
    """Whether the great-circle distance to the centre is at most the radius."""
    return distance_km(lat, lon, circle.latitude, circle.longitude) <= circle.radius_km
