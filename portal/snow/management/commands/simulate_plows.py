"""``manage.py simulate_plows --vehicles 250 --interval 20 [--speed-up N] [--url URL]``: drive
simulated plows through the demo areas, posting through the real HTTP API with real tokens, so
that /snow/ shows plows at work. Stop it with Ctrl-C (or give --duration)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from portal.models import Area
from portal.snow import selectors
from portal.snow.models import Vehicle, VehicleToken
from portal.snow.services import token_issue
from portal.snow.simulation import SimulatedPlow, plan_routes

NAME_PREFIX = "シミュレーション除雪車"
# Plows clear at 10–25 km/h; --speed-up makes the demo livelier, never faster than the API's
# limit allows.
BASE_SPEED_KMH = 18.0


class Command(BaseCommand):
    help = "Drive simulated plows, posting their positions through the real API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--vehicles", type=int, default=20)
        parser.add_argument("--interval", type=float, default=20.0, help="seconds between posts")
        parser.add_argument("--speed-up", type=float, default=1.0, help="drive N times faster")
        parser.add_argument("--url", default=settings.SITE_URL, help="the site (default SITE_URL)")
        parser.add_argument(
            "--duration", type=float, default=0, help="seconds; 0 runs until Ctrl-C"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count, interval = options["vehicles"], options["interval"]
        if not 1 <= count <= 10_000 or interval <= 0:
            raise CommandError("--vehicles is 1 to 10,000 and --interval above 0.")
        points = [
            (float(lat), float(lon))
            for lat, lon in Area.objects.filter(
                latitude__isnull=False, longitude__isnull=False
            ).values_list("latitude", "longitude")
            if lat is not None and lon is not None
        ]
        if len(points) < 2:
            raise CommandError("No areas with points: load the areas first (make run does).")
        speed = min(BASE_SPEED_KMH * options["speed_up"], settings.SNOW_MAX_SPEED_KMH * 0.8)
        plows = [
            SimulatedPlow(
                name=vehicle.name,
                token=token,
                route=_from_last_fix(vehicle, route),
                speed_kmh=speed,
            )
            for (vehicle, token), route in zip(
                self._vehicles(count), plan_routes(points, count), strict=True
            )
        ]
        url = options["url"].rstrip("/") + "/api/v1/plow/positions"
        self.stdout.write(
            f"{count} plows at {speed:.0f} km/h posting to {url} every {interval:g} s"
        )
        try:
            self._run(plows, url, interval, options["duration"])
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def _vehicles(self, count: int) -> list[tuple[Vehicle, str]]:
        """The simulation's vehicles, each with a new token (the old ones are revoked)."""
        result = []
        for number in range(1, count + 1):
            vehicle, _created = Vehicle.objects.get_or_create(
                name=f"{NAME_PREFIX}{number:04d}", defaults={"operator": "simulation"}
            )
            VehicleToken.objects.filter(vehicle=vehicle, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            result.append((vehicle, token_issue(vehicle_id=vehicle.pk)))
        return result

    def _run(self, plows: list[SimulatedPlow], url: str, interval: float, duration: float) -> None:
        started = time.monotonic()
        rounds = accepted = refused = 0
        with httpx.Client(timeout=10) as client, ThreadPoolExecutor(max_workers=16) as pool:
            while not duration or time.monotonic() - started < duration:
                tick = time.monotonic()
                now = timezone.now()
                for number, plow in enumerate(plows):
                    plow.drive(interval)
                    # One in five plows drives between jobs with its blade up.
                    plow.fixes = [plow.fix(now, working=(number + rounds) % 5 != 0)]
                results = list(pool.map(lambda plow: self._post(client, url, plow), plows))
                accepted += sum(1 for ok in results if ok)
                refused += sum(1 for ok in results if not ok)
                rounds += 1
                self.stdout.write(f"round {rounds}: {accepted} batches accepted, {refused} refused")
                time.sleep(max(0.0, interval - (time.monotonic() - tick)))

    def _post(self, client: httpx.Client, url: str, plow: SimulatedPlow) -> bool:
        try:
            response = client.post(
                url,
                json={"fixes": plow.fixes},
                headers={"Authorization": f"Bearer {plow.token}"},
            )
        except httpx.HTTPError as error:
            self.stderr.write(f"{plow.name}: {error}")
            return False
        if response.status_code >= 400:
            self.stderr.write(f"{plow.name}: {response.status_code} {response.text[:200]}")
            return False
        return True


def _from_last_fix(vehicle: Vehicle, route: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A plow of an earlier run sets off from where it stopped, not from its route's start: the
    API refuses a jump no plow can make from its last stored fix."""
    last = selectors.last_fix(vehicle.pk)
    return route if last is None else [(last.lat, last.lon), *route]
