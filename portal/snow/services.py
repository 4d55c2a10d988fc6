"""Writes of the snow service: vehicles, their tokens, and the positions they post."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from portal.models import Area
from portal.snow.models import (
    AreaPlowStatus,
    PlowPosition,
    StatusWatermark,
    Vehicle,
    VehicleToken,
)
from portal.snow.passes import Passed, areas_passed
from portal.snow.positions import Fix

TOKEN_PREFIX = "plow_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class VehicleNameTaken(ValueError):
    """Another vehicle has this name (two staff registering it at once, say)."""


def vehicle_add(*, name: str, operator: str = "", kind: str = Vehicle.Kind.PLOW) -> Vehicle:
    try:
        with transaction.atomic():
            return Vehicle.objects.create(name=name.strip(), operator=operator.strip(), kind=kind)
    except IntegrityError:
        raise VehicleNameTaken(name) from None


def token_issue(*, vehicle_id: int) -> str:
    """A new token for the vehicle, shown once: only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    VehicleToken.objects.create(
        vehicle_id=vehicle_id, token_hash=token_hash(token), prefix=token[: len(TOKEN_PREFIX) + 6]
    )
    return token


def token_revoke(*, token_id: int, now: datetime | None = None) -> None:
    VehicleToken.objects.filter(pk=token_id, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    )


@dataclass(frozen=True)
class Recorded:
    accepted: int
    duplicates: int


def positions_record(*, vehicle_id: int, fixes: list[Fix]) -> Recorded:
    """Store a checked batch in one statement; fixes stored before (a retry racing the batch it
    repeats) are counted as duplicates and left as they are."""
    if not fixes:
        return Recorded(accepted=0, duplicates=0)
    table = PlowPosition._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    received = adapt(timezone.now())
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(fixes))
    params: list[Any] = []
    for fix in fixes:
        params += [
            vehicle_id,
            adapt(fix.at),
            round(fix.lat * 1e6),
            round(fix.lon * 1e6),
            fix.working,
            fix.heading,
            fix.speed_kmh,
            received,
        ]
    # RETURNING names only the rows this statement inserted (PostgreSQL and SQLite alike), so
    # the count is right even when another request stored some of them a moment before.
    sql = (
        f"INSERT INTO {table} "
        "(vehicle_id, at, lat_e6, lon_e6, working, heading, speed_kmh, received_at) "
        f"VALUES {rows} ON CONFLICT (vehicle_id, at) DO NOTHING RETURNING id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        accepted = len(cursor.fetchall())
    return Recorded(accepted=accepted, duplicates=len(fixes) - accepted)


def positions_prune(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - timedelta(days=settings.SNOW_POSITION_RETENTION_DAYS)
    deleted, _by_model = PlowPosition.objects.filter(at__lt=cutoff).delete()
    return deleted


def token_used(*, token_id: int, now: datetime) -> None:
    VehicleToken.objects.filter(pk=token_id).update(last_used_at=now)


def area_status_update(*, now: datetime | None = None) -> int:
    """Move each area's "last plowed" on to the latest working fix near its point received
    since the last pass (and a minute before it, for positions that committed late). Only ever
    moves forward, so running it twice, or over fixes seen before, changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        mark, _created = StatusWatermark.objects.select_for_update().get_or_create(
            name="areas", defaults={"received_until": now - timedelta(hours=1)}
        )
        since = mark.received_until - timedelta(seconds=STATUS_OVERLAP_SECONDS)
        fixes = [
            (vehicle_id, at, lat_e6 / 1e6, lon_e6 / 1e6)
            for vehicle_id, at, lat_e6, lon_e6 in PlowPosition.objects.filter(
                working=True, received_at__gt=since, received_at__lte=now
            ).values_list("vehicle_id", "at", "lat_e6", "lon_e6")
        ]
        areas = list(
            Area.objects.filter(latitude__isnull=False, longitude__isnull=False).values_list(
                "pk", "latitude", "longitude"
            )
        )
        passed = areas_passed(
            area_ids=[pk for pk, _lat, _lon in areas],
            area_points=[(float(lat), float(lon)) for _pk, lat, lon in areas],  # type: ignore[arg-type]
            fixes=fixes,
            radius_m=settings.SNOW_PASS_DISTANCE_M,
        )
        changed = _advance_statuses(passed)
        mark.received_until = now
        mark.save(update_fields=["received_until"])
    return changed


# Positions received this long before the last pass are read again: one whose transaction
# committed after the pass began is not missed.
STATUS_OVERLAP_SECONDS = 60


def _advance_statuses(passed: list[Passed]) -> int:
    statuses = {
        status.area_id: status
        for status in AreaPlowStatus.objects.select_for_update().filter(
            area_id__in=[p.area_id for p in passed]
        )
    }
    new, moved = [], []
    for p in passed:
        status = statuses.get(p.area_id)
        if status is None:
            new.append(
                AreaPlowStatus(area_id=p.area_id, last_plowed_at=p.at, vehicle_id=p.vehicle_id)
            )
        elif p.at > status.last_plowed_at:
            status.last_plowed_at, status.vehicle_id = p.at, p.vehicle_id
            # bulk_update does not apply auto_now.
            status.updated_at = timezone.now()
            moved.append(status)
    AreaPlowStatus.objects.bulk_create(new)
    AreaPlowStatus.objects.bulk_update(moved, ["last_plowed_at", "vehicle", "updated_at"])
    return len(new) + len(moved)
