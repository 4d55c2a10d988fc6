"""A batch of GPS fixes from a plow, checked before anything is stored: pure (bytes, the clock,
the service area and the vehicle's last stored fix in; fixes or every reason to refuse out).

A batch is refused whole: either every fix in it is sane, or none is stored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from portal.places.geometry import distance_km


@dataclass(frozen=True)
class Fix:
    at: datetime
    lat: float
    lon: float
    working: bool
    heading: int | None = None
    speed_kmh: int | None = None


@dataclass(frozen=True)
class Problem:
    # The fix's position in the batch, or None for the batch as a whole.
    fix: int | None
    field: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"fix": self.fix, "field": self.field, "message": self.message}


class BatchRefused(Exception):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(p.message for p in self.problems))


@dataclass(frozen=True)
class ServiceArea:
    lat_min: float
    lon_min: float
    lat_max: float
    lon_max: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.lat_min <= lat <= self.lat_max and self.lon_min <= lon <= self.lon_max


@dataclass(frozen=True)
class Limits:
    max_fixes: int = 100
    max_age: timedelta = timedelta(hours=1)
    # How far ahead of the server's clock a fix may be (devices' clocks drift).
    max_ahead: timedelta = timedelta(seconds=30)
    max_speed_kmh: float = 120.0


@dataclass(frozen=True)
class Batch:
    vehicle: str
    # In time order, each with its position in the batch as sent.
    fixes: list[Fix]
    positions: list[int]
    # Fixes that appeared twice in the batch, or were stored before (kept once).
    repeated: int
    # The device's clock minus the server's, when the device said when it sent the batch.
    clock_skew_seconds: float | None


def parse_batch(
    body: bytes,
    *,
    now: datetime,
    area: ServiceArea,
    limits: Limits | None = None,
) -> Batch:
    """The batch in ``body``, or ``BatchRefused`` with every reason at once.

    Checks each fix, and the fixes against each other; ``check_against_track`` then checks them
    against what the vehicle stored before.
    """
    limits = limits or Limits()
    document = _json_object(body)
    problems: list[Problem] = []
    raw_fixes = document.get("fixes")
    if not isinstance(raw_fixes, list) or not raw_fixes:
        raise BatchRefused([Problem(None, "fixes", "a non-empty list of fixes is required")])
    if len(raw_fixes) > limits.max_fixes:
        raise BatchRefused(
            [Problem(None, "fixes", f"at most {limits.max_fixes} fixes in one batch")]
        )
    unknown = sorted(set(document) - {"fixes", "vehicle", "sent"})
    if unknown:
        problems.append(Problem(None, unknown[0], f"unknown fields: {', '.join(unknown)}"))
    skew = _clock_skew(document.get("sent"), now, problems)
    fixes = []
    for position, raw in enumerate(raw_fixes):
        fix = _fix(raw, position, now=now, area=area, limits=limits, problems=problems)
        if fix is not None:
            fixes.append((position, fix))
    unique: dict[datetime, tuple[int, Fix]] = {}
    for position, fix in fixes:
        first = unique.setdefault(fix.at, (position, fix))[1]
        if not same_place(first, fix):
            problems.append(
                Problem(position, "time", "another fix of this batch has this time elsewhere")
            )
    ordered = sorted(unique.values(), key=lambda pair: pair[1].at)
    _check_speeds(ordered, limits, problems)
    if problems:
        raise BatchRefused(problems)
    return Batch(
        vehicle=str(document.get("vehicle", "")),
        fixes=[fix for _position, fix in ordered],
        positions=[position for position, _fix in ordered],
        repeated=len(fixes) - len(unique),
        clock_skew_seconds=skew,
    )


def check_against_track(batch: Batch, track: Sequence[Fix], limits: Limits) -> Batch:
    """The batch without the fixes the vehicle stored before (a retried batch), or
    ``BatchRefused``: a fix at a stored time but elsewhere, or a jump no plow can make from or
    to the stored fixes around it, whatever order the fixes arrive in.

    ``track``: the vehicle's stored fixes from the batch's first time to its last, and the one
    just before and just after.
    """
    stored = {fix.at: fix for fix in track}
    problems: list[Problem] = []
    new: list[tuple[int, Fix]] = []
    for position, fix in zip(batch.positions, batch.fixes, strict=True):
        known = stored.get(fix.at)
        if known is None:
            new.append((position, fix))
        elif not same_place(known, fix):
            problems.append(Problem(position, "time", "a fix of this time was stored elsewhere"))
    earlier: list[tuple[int | None, Fix]] = [(None, fix) for fix in track]
    merged = sorted([*earlier, *new], key=lambda pair: pair[1].at)
    _check_speeds(merged, limits, problems)
    if problems:
        raise BatchRefused(problems)
    return Batch(
        vehicle=batch.vehicle,
        fixes=[fix for _position, fix in new],
        positions=[position for position, _fix in new],
        repeated=batch.repeated + len(batch.fixes) - len(new),
        clock_skew_seconds=batch.clock_skew_seconds,
    )


def same_place(a: Fix, b: Fix) -> bool:
    """Equal to the microdegree the positions are stored in."""
    return round(a.lat * 1e6) == round(b.lat * 1e6) and round(a.lon * 1e6) == round(b.lon * 1e6)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BatchRefused([Problem(None, "body", "the body is not UTF-8")]) from None
    except json.JSONDecodeError as error:
        raise BatchRefused([Problem(None, "body", f"not JSON: {error.msg}")]) from None
    except (ValueError, RecursionError):
        # An integer of thousands of digits, or arrays nested thousands deep.
        raise BatchRefused([Problem(None, "body", "not JSON this API accepts")]) from None
    if not isinstance(document, dict):
        raise BatchRefused([Problem(None, "body", 'a JSON object {"fixes": [...]} is expected')])
    return document


def _clock_skew(sent: Any, now: datetime, problems: list[Problem]) -> float | None:
    if sent is None:
        return None
    moment = _time(sent)
    if moment is None:
        problems.append(Problem(None, "sent", "not a time with a time zone (ISO 8601)"))
        return None
    return round((moment - now).total_seconds(), 1)


def _fix(
    raw: Any,
    position: int,
    *,
    now: datetime,
    area: ServiceArea,
    limits: Limits,
    problems: list[Problem],
) -> Fix | None:
    def refuse(field: str, message: str) -> None:
        problems.append(Problem(position, field, message))

    if not isinstance(raw, dict):
        refuse("fix", "a fix is a JSON object")
        return None
    before = len(problems)
    unknown = sorted(set(raw) - {"time", "lat", "lon", "working", "heading", "speed"})
    if unknown:
        refuse(unknown[0], f"unknown fields: {', '.join(unknown)}")
    at = _time(raw.get("time"))
    if at is None:
        refuse("time", "not a time with a time zone (ISO 8601)")
    elif at > now + limits.max_ahead:
        refuse("time", f"in the future by {(at - now).total_seconds():.0f} s")
    elif at < now - limits.max_age:
        refuse("time", f"older than {limits.max_age.total_seconds() / 60:.0f} minutes")
    lat, lon = _number(raw.get("lat")), _number(raw.get("lon"))
    if lat is None or not -90 <= lat <= 90:
        refuse("lat", "a latitude in degrees is required")
    if lon is None or not -180 <= lon <= 180:
        refuse("lon", "a longitude in degrees is required")
    if lat is not None and lon is not None and not area.contains(lat, lon):
        refuse("lat", f"outside the service area: {lat:.5f}, {lon:.5f}")
    working = raw.get("working")
    if not isinstance(working, bool):
        refuse("working", "true or false is required")
    heading = _optional_integer(raw, "heading", 0, 359, refuse)
    speed = _optional_integer(raw, "speed", 0, int(limits.max_speed_kmh), refuse)
    if len(problems) > before:
        return None
    assert at is not None and lat is not None and lon is not None and isinstance(working, bool)
    return Fix(at, lat, lon, working, heading, speed)


def _optional_integer(
    raw: dict[str, Any], field: str, low: int, high: int, refuse: Any
) -> int | None:
    value = raw.get(field)
    if value is None:
        return None
    number = _number(value)
    if number is None or not low <= number <= high:
        refuse(field, f"a number from {low} to {high} is expected")
        return None
    return round(number)


def _number(value: Any) -> float | None:
    # bool is an int in Python, never a coordinate.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return number if math.isfinite(number) else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _check_speeds(
    ordered: Sequence[tuple[int | None, Fix]], limits: Limits, problems: list[Problem]
) -> None:
    """A jump no plow can make between two fixes in time order (GPS noise, a mixed-up device) is
    refused; pairs of two stored fixes (position None) were checked when they arrived."""
    for (before_at, before), (after_at, after) in zip(ordered, ordered[1:], strict=False):
        if before_at is None and after_at is None:
            continue
        seconds = (after.at - before.at).total_seconds()
        if seconds <= 0:
            continue
        speed = distance_km(before.lat, before.lon, after.lat, after.lon) / (seconds / 3600)
        if speed > limits.max_speed_kmh:
            position = after_at if after_at is not None else before_at
            problems.append(
                Problem(
                    position,
                    "lat",
                    f"{speed:.0f} km/h from the fix before it: more than "
                    f"{limits.max_speed_kmh:.0f} km/h",
                )
            )
