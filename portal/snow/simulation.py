"""Simulated plows for demos and benchmarks: each drives from area point to area point of the
portal's areas at a plausible speed, plowing most of the way, and posts its fixes through the
real HTTP API with a real token, as a vehicle's device would."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from portal.places.geometry import distance_km


@dataclass
class SimulatedPlow:
    name: str
    token: str
    route: list[tuple[float, float]]
    speed_kmh: float
    leg: int = 0
    # How far along the current leg, in km.
    along_km: float = 0.0
    fixes: list[dict[str, object]] = field(default_factory=list)

    def position(self) -> tuple[float, float, float]:
        """Latitude, longitude and heading (degrees) now."""
        (a_lat, a_lon), (b_lat, b_lon) = self.route[self.leg], self.route[self.leg + 1]
        length = max(distance_km(a_lat, a_lon, b_lat, b_lon), 1e-6)
        share = min(self.along_km / length, 1.0)
        lat, lon = a_lat + (b_lat - a_lat) * share, a_lon + (b_lon - a_lon) * share
        heading = (
            math.degrees(math.atan2((b_lon - a_lon) * math.cos(math.radians(a_lat)), b_lat - a_lat))
            % 360
        )
        return lat, lon, heading

    def drive(self, seconds: float) -> None:
        """Move on by ``seconds`` of driving, turning at each area's point."""
        self.along_km += self.speed_kmh * seconds / 3600
        while self.leg + 1 < len(self.route):
            (a_lat, a_lon), (b_lat, b_lon) = self.route[self.leg], self.route[self.leg + 1]
            length = distance_km(a_lat, a_lon, b_lat, b_lon)
            if self.along_km < length:
                return
            self.along_km -= length
            self.leg += 1
            if self.leg + 1 >= len(self.route):
                # Back the way it came: plows work their rounds.
                self.route.reverse()
                self.leg = 0

    def fix(self, at: datetime, *, working: bool) -> dict[str, object]:
        lat, lon, heading = self.position()
        return {
            "time": at.isoformat(),
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "working": working,
            "heading": round(heading) % 360,
            "speed": round(self.speed_kmh),
        }


def plan_routes(
    points: list[tuple[float, float]], count: int, *, stops: int = 6, seed: int = 2026
) -> list[list[tuple[float, float]]]:
    """``count`` routes, each through ``stops`` nearby area points (a plow works a district and
    its neighbours, not the whole city)."""
    chooser = random.Random(seed)
    routes = []
    for _ in range(count):
        start = chooser.choice(points)
        nearest = sorted(points, key=lambda p: distance_km(*start, *p))[: max(stops * 2, 2)]
        route = [start, *chooser.sample(nearest[1:], min(stops - 1, len(nearest) - 1))]
        routes.append(route if len(route) > 1 else [start, start])
    return routes


def fix_times(now: datetime, interval: float, per_batch: int) -> list[datetime]:
    """The times of a batch's fixes: the last ``per_batch`` moments ``interval`` apart."""
    step = timedelta(seconds=interval / per_batch)
    return [now - step * (per_batch - 1 - i) for i in range(per_batch)]
