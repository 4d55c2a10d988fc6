"""Which areas a working plow passed: arrays, not loops over pairs (pure).

Each area is represented by its point; a fix passes an area when it lies within ``radius_m`` of
the point. On the scale of a city (about 20 km) an equirectangular projection around the
points' mean latitude is accurate to well under a metre per kilometre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from portal.places.geometry import EARTH_RADIUS_M

BLOCK = 2048


@dataclass(frozen=True)
class Passed:
    area_id: int
    at: datetime
    vehicle_id: int


def areas_passed(
    *,
    area_ids: list[int],
    area_points: list[tuple[float, float]],
    fixes: list[tuple[int, datetime, float, float]],
    radius_m: float,
) -> list[Passed]:
    """For each area some fix passed: the latest such fix (``fixes``: vehicle, time, lat, lon)."""
    if not area_ids or not fixes:
        return []
    points = np.radians(np.asarray(area_points, dtype=np.float64))
    scale = math.cos(float(points[:, 0].mean()))
    # Metres on a local plane: x east, y north.
    area_xy = np.column_stack((points[:, 1] * scale, points[:, 0])) * EARTH_RADIUS_M
    best_time = np.full(len(area_ids), -np.inf)
    best_fix = np.zeros(len(area_ids), dtype=np.int64)
    # Areas × fixes in blocks, so that a region's areas and a busy minute's fixes stay small.
    for start in range(0, len(fixes), BLOCK):
        block = fixes[start : start + BLOCK]
        where = np.radians(np.asarray([(lat, lon) for _v, _t, lat, lon in block]))
        fix_xy = np.column_stack((where[:, 1] * scale, where[:, 0])) * EARTH_RADIUS_M
        d2 = ((area_xy[:, None, :] - fix_xy[None, :, :]) ** 2).sum(axis=2)
        times = np.asarray([t.timestamp() for _v, t, _lat, _lon in block])
        latest = np.where(d2 <= radius_m**2, times[None, :], -np.inf)
        column = latest.argmax(axis=1)
        value = latest[np.arange(len(area_ids)), column]
        newer = value > best_time
        best_time[newer] = value[newer]
        best_fix[newer] = column[newer] + start
    return [
        Passed(area_ids[i], fixes[best_fix[i]][1], fixes[best_fix[i]][0])
        for i in np.flatnonzero(np.isfinite(best_time))
    ]
