"""Plows posting their positions against the real web process and worker.

    .venv/bin/python benchmarks/bench_snow.py [VEHICLES ...] [--seconds S]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/machiplus_bench \
        .venv/bin/python benchmarks/bench_snow.py 250 2500 --seconds 120

Starts real processes (tests/resilience/processes.py): a Redis server of its own, the site under
gunicorn in production mode (one process, four threads), a Celery worker and beat. Loads the demo
areas, registers VEHICLES simulated plows with real tokens, and for S seconds (default 120) has
each post one fix every 20 s through `POST /api/v1/plow/positions`, spread evenly over the 20 s
(VEHICLES / 20 requests a second), from 32 client threads. Prints accepted batches/s, the API
latency (p50/p95/p99, as the clients saw it) and the lag from a position's arrival to its area's
"last plowed" status: a probe plow posts a fix on an area's point every round, and the lag is
the time until that area's status shows it (beat's pass runs every SNOW_STATUS_SECONDS).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-snow.sqlite3'}")
# The benchmark's plows post every 20 s: the per-vehicle limit is not what is measured.
os.environ["SNOW_BATCHES_PER_MINUTE"] = "1000"

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from portal.models import Area  # noqa: E402
from portal.snow.models import AreaPlowStatus, PlowPosition, StatusWatermark, Vehicle  # noqa: E402
from portal.snow.services import token_issue, vehicle_add  # noqa: E402
from portal.snow.simulation import SimulatedPlow, plan_routes  # noqa: E402
from tests.resilience.processes import RedisServer, Site, wait_for  # noqa: E402

INTERVAL = 20.0
PREFIX = "bench-plow-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("vehicles", nargs="*", type=int, default=[250])
    parser.add_argument("--seconds", type=float, default=120)
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    if not Area.objects.filter(latitude__isnull=False).exists():
        call_command(
            "import_places", "--areas", str(ROOT / "portal/demo/data/areas.json"), verbosity=0
        )
    print(f"database: {connection.vendor}; {options.seconds:.0f} s per run; fixes every 20 s")
    with tempfile.TemporaryDirectory() as directory:
        redis_server = RedisServer(directory=Path(directory))
        redis_server.start()
        site = Site(redis=redis_server, tmp_path=Path(directory), database_url=_database_url())
        site.mail_dir.mkdir()
        try:
            site.start_web()
            site.start_worker()
            site.start_beat()
            for count in options.vehicles:
                run(site.url, count, options.seconds)
        finally:
            site.stop()
            redis_server.stop()


def run(url: str, count: int, seconds: float) -> None:
    clear()
    points = [
        (float(lat), float(lon))
        for lat, lon in Area.objects.filter(latitude__isnull=False).values_list(
            "latitude", "longitude"
        )
        if lat is not None and lon is not None
    ]
    plows = [
        SimulatedPlow(f"{PREFIX}{i}", _token(f"{PREFIX}{i}"), route, speed_kmh=18)
        for i, route in enumerate(plan_routes(points, count))
    ]
    probe_area = Area.objects.filter(latitude__isnull=False).order_by("code").first()
    assert probe_area is not None and probe_area.latitude is not None
    probe_point = (float(probe_area.latitude), float(probe_area.longitude or 0))
    probe = SimulatedPlow(f"{PREFIX}probe", _token(f"{PREFIX}probe"), [probe_point] * 2, 0)
    latencies: list[float] = []
    statuses: list[int] = []
    lags: list[float] = []
    lock = threading.Lock()
    endpoint = url + "/api/v1/plow/positions"
    started = time.monotonic()
    with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=32)) as client:

        def post(plow: SimulatedPlow, *, working: bool = True) -> None:
            plow.drive(INTERVAL)
            fix = plow.fix(timezone.now(), working=working)
            begun = time.perf_counter()
            response = client.post(
                endpoint,
                json={"fixes": [fix]},
                headers={"Authorization": f"Bearer {plow.token}"},
            )
            with lock:
                latencies.append((time.perf_counter() - begun) * 1000)
                statuses.append(response.status_code)

        with ThreadPoolExecutor(max_workers=32) as pool:
            rounds = 0
            while time.monotonic() - started < seconds:
                round_start = time.monotonic()
                probe_time = timezone.now().replace(microsecond=0)
                probe.fixes = []
                _post_probe(client, endpoint, probe, probe_time)
                lag_thread = threading.Thread(
                    target=_measure_lag, args=(probe_area.pk, probe_time, time.monotonic(), lags)
                )
                lag_thread.start()
                for i, plow in enumerate(plows):
                    # Spread evenly over the 20 s, as devices' clocks are.
                    due = round_start + INTERVAL * i / len(plows)
                    time.sleep(max(0.0, due - time.monotonic()))
                    pool.submit(post, plow)
                rounds += 1
                time.sleep(max(0.0, round_start + INTERVAL - time.monotonic()))
                lag_thread.join(timeout=60)
    elapsed = time.monotonic() - started
    accepted = sum(1 for status in statuses if status in {200, 201})
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{count} vehicles: {len(statuses)} batches in {elapsed:.0f} s, {accepted / elapsed:.1f} "
        f"accepted/s ({len(statuses) - accepted} refused); latency p50 {cuts[49]:.0f} ms, "
        f"p95 {cuts[94]:.0f} ms, p99 {cuts[98]:.0f} ms; status lag "
        + (
            f"median {statistics.median(lags):.1f} s, max {max(lags):.1f} s over {len(lags)} rounds"
            if lags
            else "not measured"
        )
    )


def _post_probe(client: httpx.Client, endpoint: str, probe: SimulatedPlow, at: object) -> None:
    lat, lon, _heading = probe.position()
    client.post(
        endpoint,
        json={"fixes": [{"time": at.isoformat(), "lat": lat, "lon": lon, "working": True}]},  # type: ignore[attr-defined]
        headers={"Authorization": f"Bearer {probe.token}"},
    )


def _measure_lag(area_id: int, fix_time: object, posted: float, lags: list[float]) -> None:
    try:
        wait_for(
            lambda: AreaPlowStatus.objects.filter(
                area_id=area_id, last_plowed_at__gte=fix_time
            ).exists(),
            timeout=60,
            what="the probe's area status",
        )
    except AssertionError:
        return
    finally:
        connection.close()
    lags.append(time.monotonic() - posted)


def _token(name: str) -> str:
    vehicle = vehicle_add(name=name)
    return token_issue(vehicle_id=vehicle.pk)


def clear() -> None:
    benchmark = Vehicle.objects.filter(name__startswith=PREFIX)
    PlowPosition.objects.filter(vehicle__in=benchmark).delete()
    AreaPlowStatus.objects.all().delete()
    StatusWatermark.objects.all().delete()
    benchmark.delete()


def _database_url() -> str:
    return str(os.environ["DATABASE_URL"])


if __name__ == "__main__":
    main()
