"""Reads of the snow service."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Exists, Max, Min, OuterRef, Q

from portal.models import Area
from portal.snow.models import AreaPlowStatus, PlowPosition, Vehicle, VehicleToken
from portal.snow.positions import Fix, ServiceArea
from portal.snow.services import token_hash

# About 5 km around the outermost points of the areas: plows turn at the city's edge.
SERVICE_AREA_MARGIN_DEGREES = 0.05


def vehicle_for_token(token: str) -> tuple[Vehicle, VehicleToken] | None:
    """The active vehicle a live token belongs to."""
    found = (
        VehicleToken.objects.select_related("vehicle")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True, vehicle__active=True)
        .first()
    )
    return (found.vehicle, found) if found is not None else None


def service_area() -> ServiceArea | None:
    """SNOW_SERVICE_AREA when set, else the extent of the portal's areas, with a margin."""
    if settings.SNOW_SERVICE_AREA:
        lat_min, lon_min, lat_max, lon_max = settings.SNOW_SERVICE_AREA
        return ServiceArea(lat_min, lon_min, lat_max, lon_max)
    # Asked by every batch of every plow; the areas change when the city imports them.
    cached = cache.get(SERVICE_AREA_CACHE_KEY)
    if cached is None:
        cached = _areas_extent()
        # "No areas yet" for a few seconds only: the city's first import counts at once.
        seconds = SERVICE_AREA_CACHE_SECONDS if cached else NO_AREAS_CACHE_SECONDS
        cache.set(SERVICE_AREA_CACHE_KEY, cached, seconds)
    return cached or None


SERVICE_AREA_CACHE_KEY = "snow:service-area"
SERVICE_AREA_CACHE_SECONDS = 300
NO_AREAS_CACHE_SECONDS = 10


def _areas_extent() -> ServiceArea | bool:
    """The areas' extent with its margin; False (cacheable, unlike None) when no area has a
    point."""
    extent = Area.objects.filter(latitude__isnull=False, longitude__isnull=False).aggregate(
        lat_min=Min("latitude"), lat_max=Max("latitude"),
        lon_min=Min("longitude"), lon_max=Max("longitude"),
    )  # fmt: skip
    if extent["lat_min"] is None:
        return False
    margin = SERVICE_AREA_MARGIN_DEGREES
    return ServiceArea(
        float(extent["lat_min"]) - margin,
        float(extent["lon_min"]) - margin,
        float(extent["lat_max"]) + margin,
        float(extent["lon_max"]) + margin,
    )


def last_fix(vehicle_id: int) -> Fix | None:
    position = PlowPosition.objects.filter(vehicle_id=vehicle_id).order_by("-at").first()
    if position is None:
        return None
    return Fix(position.at, position.lat, position.lon, position.working)


def track_around(vehicle_id: int, *, start: datetime, end: datetime) -> list[Fix]:
    """The vehicle's stored fixes from ``start`` to ``end``, and the one just before and just
    after: what a new batch's fixes are checked against. One statement (the API's hot path)."""
    table = PlowPosition._meta.db_table
    columns = "at, lat_e6, lon_e6, working"
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"SELECT * FROM (SELECT {columns} FROM {table} WHERE vehicle_id = %s AND at < %s "
        "ORDER BY at DESC LIMIT 1) AS before_start "
        f"UNION ALL SELECT * FROM (SELECT {columns} FROM {table} "
        "WHERE vehicle_id = %s AND at >= %s AND at <= %s) AS within "
        f"UNION ALL SELECT * FROM (SELECT {columns} FROM {table} WHERE vehicle_id = %s AND at > %s "
        "ORDER BY at LIMIT 1) AS after_end"
    )
    params = [
        vehicle_id,
        adapt(start),
        vehicle_id,
        adapt(start),
        adapt(end),
        vehicle_id,
        adapt(end),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    at_field = PlowPosition._meta.get_field("at")
    fixes = [
        Fix(_as_datetime(at, at_field), lat_e6 / 1e6, lon_e6 / 1e6, bool(working))
        for at, lat_e6, lon_e6, working in rows
    ]
    return sorted(fixes, key=lambda fix: fix.at)


def _as_datetime(value: Any, field: Any) -> datetime:
    """A raw row's time as an aware datetime (SQLite hands back text)."""
    for converter in connection.ops.get_db_converters(field.get_col(field.model._meta.db_table)):
        value = converter(value, field, connection)
    return value  # type: ignore[no-any-return]


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    municipality: str
    last_plowed_at: datetime | None
    vehicle: str
    latitude: float | None = None
    longitude: float | None = None


SORTS = ("area", "time")


def area_plow_rows(*, sort: str = "area") -> list[AreaRow]:
    """Every district (and each municipality without districts) with when a plow last passed
    it; by area code, or most recently plowed first (never-plowed last)."""
    areas = (
        Area.objects.filter(
            Q(kind=Area.Kind.DISTRICT) | Q(kind=Area.Kind.MUNICIPALITY, subareas__isnull=True)
        )
        .select_related("parent", "plow_status__vehicle")
        .distinct()
        .order_by("code")
    )
    rows = [_row(area) for area in areas]
    if sort == "time":
        rows.sort(
            key=lambda row: row.last_plowed_at.timestamp() if row.last_plowed_at else 0,
            reverse=True,
        )
    return rows


def _row(area: Area) -> AreaRow:
    status = _status(area)
    return AreaRow(
        code=area.code,
        name=area.name,
        municipality=area.parent.name if area.parent else area.name,
        last_plowed_at=status.last_plowed_at if status is not None else None,
        vehicle=status.vehicle.name if status is not None and status.vehicle else "",
        latitude=float(area.latitude) if area.latitude is not None else None,
        longitude=float(area.longitude) if area.longitude is not None else None,
    )


def _status(area: Area) -> AreaPlowStatus | None:
    # A missing reverse one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
    status: AreaPlowStatus | None = getattr(area, "plow_status", None)
    return status


def map_features(*, now: datetime | None = None) -> dict[str, object]:
    """GeoJSON for the map: each vehicle's latest position and its track over the last
    SNOW_MAP_TRACK_MINUTES, and each area's point with when it was last plowed."""
    from django.utils import timezone

    now = now or timezone.now()
    since = now - timedelta(minutes=settings.SNOW_MAP_TRACK_MINUTES)
    tracks: dict[int, list[tuple[datetime, float, float, bool]]] = {}
    names = dict(Vehicle.objects.values_list("pk", "name"))
    for vehicle_id, at, lat_e6, lon_e6, working in (
        PlowPosition.objects.filter(at__gte=since, at__lte=now)
        .order_by("vehicle_id", "at")
        .values_list("vehicle_id", "at", "lat_e6", "lon_e6", "working")
    ):
        tracks.setdefault(vehicle_id, []).append((at, lat_e6 / 1e6, lon_e6 / 1e6, working))
    features: list[dict[str, object]] = []
    for vehicle_id, fixes in tracks.items():
        at, lat, lon, working = fixes[-1]
        name = names.get(vehicle_id, "")
        features.append(_point(lat, lon, kind="vehicle", name=name, working=working, at=at))
        if len(fixes) > 1:
            features.append({
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[f[2], f[1]] for f in fixes]},
                "properties": {"kind": "track", "name": name},
            })  # fmt: skip
    for row in area_plow_rows():
        if row.latitude is not None and row.longitude is not None:
            features.append(
                _point(
                    row.latitude, row.longitude, kind="area", name=row.name, at=row.last_plowed_at
                )
            )
    return {"type": "FeatureCollection", "features": features}


def _point(lat: float, lon: float, **properties: object) -> dict[str, object]:
    at = properties.get("at")
    properties["at"] = at.isoformat() if isinstance(at, datetime) else None
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": properties,
    }


def plow_rows_near(*, area_ids: Collection[int]) -> list[AreaRow]:
    """The plow status of the districts these areas are or lie in (a neighbourhood's district),
    by area code: the snow card of a resident's places."""
    if not area_ids:
        return []
    has_subareas = Exists(Area.objects.filter(parent=OuterRef("pk")))
    areas = (
        Area.objects.with_ancestors_of(area_ids)
        .filter(Q(kind=Area.Kind.DISTRICT) | Q(Q(kind=Area.Kind.MUNICIPALITY) & ~has_subareas))
        .select_related("parent", "plow_status__vehicle")
        .order_by("code")
    )
    return [_row(area) for area in areas]
