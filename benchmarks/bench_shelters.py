"""How fast /shelters/ sorts every site by distance, for a city and for a region.

    .venv/bin/python benchmarks/bench_shelters.py [SITES ...]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/machiplus_bench \
        .venv/bin/python benchmarks/bench_shelters.py 300 20000 80000

For each SITES (default 300, a city's; 20,000, a region's; 80,000, about all of Japan's
designated sites) it scatters that many sites over a 100 km square around Aizuwakamatsu and
prints, as the median of 20 runs: ``rank_by_distance`` (read every site's point, one NumPy
array operation, sort), the first page of ``/shelters/?near=here`` through Django's test
client (the whole view: form, rank, the page's sites, the template), and ``/shelters/map.json``
for one district (what the map fetches).

Sites of earlier runs are deleted first, so point it at a scratch database.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-shelters.sqlite3'}")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from portal.models import Area, Shelter  # noqa: E402
from portal.places.selectors import rank_by_distance  # noqa: E402

RUNS = 20
CENTRE = (37.4948, 139.9298)
DISTRICTS = 20


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]] or [300, 20_000, 80_000]
    call_command("migrate", verbosity=0)
    setup_test_environment()
    print(f"database: {connection.vendor}; median of {RUNS} runs")
    print(f"{'sites':>8} {'rank (ms)':>10} {'page (ms)':>10} {'map.json 1 district (ms)':>25}")
    for size in sizes:
        print(f"{size:>8,} {measure(size)}")


def measure(size: int) -> str:
    district = build(size)[0]
    client = Client(HTTP_HOST="127.0.0.1")
    here = {"near": "here", "lat": "37.495", "lon": "139.93"}
    rank = median_ms(
        lambda: rank_by_distance(Shelter.objects.all(), latitude=37.495, longitude=139.93)
    )
    page = median_ms(lambda: ok(client.get("/shelters/", here)))
    map_json = median_ms(lambda: ok(client.get("/shelters/map.json", {"area": district})))
    return f"{rank:>10.1f} {page:>10.1f} {map_json:>25.1f}"


def ok(response: object) -> None:
    assert getattr(response, "status_code", None) == 200, response


def median_ms(run: Callable[[], object]) -> float:
    run()  # warm
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def build(size: int) -> list[str]:
    Shelter.objects.all().delete()
    Area.objects.filter(code__startswith="bench-d").delete()
    Area.objects.filter(code="bench-city").delete()
    city = Area.objects.create(code="bench-city", kind=Area.Kind.MUNICIPALITY, name_ja="ベンチ市")
    districts = [
        Area.objects.create(
            code=f"bench-d{i}", kind=Area.Kind.DISTRICT, parent=city, name_ja=f"第{i}地区"
        )
        for i in range(DISTRICTS)
    ]
    rng = np.random.default_rng(7)
    # About 100 km × 100 km: ±0.45° of latitude, ±0.57° of longitude here.
    latitudes = CENTRE[0] + rng.uniform(-0.45, 0.45, size)
    longitudes = CENTRE[1] + rng.uniform(-0.57, 0.57, size)
    Shelter.objects.bulk_create(
        (
            Shelter(
                source_id=f"bench-{i}",
                kind=Shelter.Kind.SHELTER if i % 2 else Shelter.Kind.EMERGENCY_SITE,
                area=districts[i % DISTRICTS],
                name_ja=f"ベンチ避難所{i:06d}",
                address="福島県会津若松市東栄町3-46",
                latitude=Decimal(f"{latitudes[i]:.6f}"),
                longitude=Decimal(f"{longitudes[i]:.6f}"),
                for_earthquake=True,
                for_flood=bool(i % 3),
            )
            for i in range(size)
        ),
        batch_size=2000,
    )
    return [district.code for district in districts]


if __name__ == "__main__":
    main()
