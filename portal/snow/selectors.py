"""Reads of the snow service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max, Min, Q

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
    extent = Area.objects.filter(latitude__isnull=False, longitude__isnull=False).aggregate(
        lat_min=Min("latitude"), lat_max=Max("latitude"),
        lon_min=Min("longitude"), lon_max=Max("longitude"),
    )  # fmt: skip
    if extent["lat_min"] is None:
        return None
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


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    municipality: str
    last_plowed_at: datetime | None
    vehicle: str


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
    )


def _status(area: Area) -> AreaPlowStatus | None:
    # A missing reverse one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
    status: AreaPlowStatus | None = getattr(area, "plow_status", None)
    return status
