"""Writes of the snow service: vehicles, their tokens, and the positions they post."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.snow.models import PlowPosition, Vehicle, VehicleToken
from portal.snow.positions import Fix

TOKEN_PREFIX = "plow_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def vehicle_add(*, name: str, operator: str = "", kind: str = Vehicle.Kind.PLOW) -> Vehicle:
    return Vehicle.objects.create(name=name.strip(), operator=operator.strip(), kind=kind)


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
    """Store a checked batch in one statement; fixes stored before (a retried batch) are
    counted as duplicates and left as they are."""
    times = [fix.at for fix in fixes]
    with transaction.atomic():
        known = set(
            PlowPosition.objects.filter(vehicle_id=vehicle_id, at__in=times).values_list(
                "at", flat=True
            )
        )
        new = [
            PlowPosition(
                vehicle_id=vehicle_id,
                at=fix.at,
                lat_e6=round(fix.lat * 1e6),
                lon_e6=round(fix.lon * 1e6),
                working=fix.working,
                heading=fix.heading,
                speed_kmh=fix.speed_kmh,
            )
            for fix in fixes
            if fix.at not in known
        ]
        created = PlowPosition.objects.bulk_create(new, ignore_conflicts=True)
    return Recorded(accepted=len(created), duplicates=len(fixes) - len(created))


def positions_prune(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - timedelta(days=settings.SNOW_POSITION_RETENTION_DAYS)
    deleted, _by_model = PlowPosition.objects.filter(at__lt=cutoff).delete()
    return deleted


def token_used(*, token_id: int, now: datetime) -> None:
    VehicleToken.objects.filter(pk=token_id).update(last_used_at=now)
