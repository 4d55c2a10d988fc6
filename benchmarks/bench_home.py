"""The signed-in home page under load, beside a bare one-query view, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/machiplus_bench \\
        .venv/bin/python benchmarks/bench_home.py [RESIDENTS] [--clients 20] [--seconds 30]

Setup (not timed): RESIDENTS (default 120,000) residents who share their places, age and
interests for the home page (benchmarks/bench_rescore.py's builder, reused when as many are
there already) and 2,000 notices, every stored feed computed; sessions for 500 of them.

Then the site runs as in production — gunicorn (the Procfile's three processes, DEBUG off, a
Redis server of its own) — and CLIENTS threads (default 20) each send requests back to back
for SECONDS, each request signed in as one of the 500 residents, at random: first to the bare
view (`/bench/bare/`: the same middleware, one query), then to the home page (`/`: its gate
reads with their data-use log, the stored feed, the warnings, the snow and school cards). Prints
JSON: requests/s, and for each the server time (gunicorn's own measure of the request, from its
access log: what the page costs, without the time a request waits for a free process) and the
client-side latency (what the resident waits, queueing included), p50/p95/p99 in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-home.sqlite3'}")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402

from benchmarks.bench_policy_bulk_read import EMAIL_PREFIX, clear  # noqa: E402
from benchmarks.bench_rescore import (  # noqa: E402
    NOTICE_PREFIX,
    build_areas,
    build_notices,
    build_residents,
    split,
)
from portal.models import User  # noqa: E402
from portal.notices.models import Notice  # noqa: E402
from recommendations.models import StoredFeed  # noqa: E402
from recommendations.services import feeds_rescore  # noqa: E402
from tests.resilience.processes import RedisServer, free_port, wait_for  # noqa: E402

SIGNED_IN = 500


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("residents", nargs="?", type=int, default=120_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    ids = prepare(options.residents)
    cookies = sessions(random.Random(7).sample(ids, min(SIGNED_IN, len(ids))))
    report: dict[str, Any] = {
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "residents": len(ids),
        "clients": options.clients,
        "seconds": options.seconds,
    }
    with tempfile.TemporaryDirectory() as directory:
        redis_server = RedisServer(directory=Path(directory))
        redis_server.start()
        log = Path(directory) / "access.log"
        port = free_port()
        web = start_gunicorn(port, redis_server.url, log)
        try:
            url = f"http://127.0.0.1:{port}"
            for name, path in (("bare_view", "/bench/bare/"), ("home_page", "/")):
                report[name] = load(url, path, cookies, options.clients, options.seconds, log)
        finally:
            web.terminate()
            web.wait(timeout=30)
            redis_server.stop()
    report["home_vs_bare_throughput"] = round(
        report["home_page"]["requests_per_second"] / report["bare_view"]["requests_per_second"],
        2,
    )
    print(json.dumps(report, indent=2))


def prepare(residents: int) -> list[int]:
    ids = list(
        User.objects.filter(email__startswith=EMAIL_PREFIX)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(ids) != residents:
        clear()
        Notice.objects.filter(title_ja__startswith=NOTICE_PREFIX).delete()
        districts = build_areas()
        ids = build_residents(residents, districts)
        build_notices(2_000, districts)
    if StoredFeed.objects.filter(resident_id__in=ids[:: max(1, len(ids) // 100)]).count() < 90:
        for part in split((ids[0], ids[-1]), max(1, len(ids) // 20_000)):
            feeds_rescore(id_range=part)
    return ids


def sessions(resident_ids: list[int]) -> list[str]:
    """A signed-in session for each resident, as logging in leaves it."""
    keys = []
    for user in User.objects.filter(pk__in=resident_ids):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys.append(store.session_key or "")
    return keys


def start_gunicorn(port: int, redis_url: str, log: Path) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.bench_home_settings",
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "REDIS_URL": redis_url,
        "STATIC_ROOT": str(settings.STATIC_ROOT),
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"), "portal.wsgi",
            f"--bind=127.0.0.1:{port}", "--workers=3",
            f"--access-logfile={log}", "--access-logformat=%(U)s %(s)s %(D)s",
        ],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for(lambda: _answers(port), timeout=60, what="gunicorn")
    return process


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


def load(
    url: str, path: str, cookies: list[str], clients: int, seconds: float, log: Path
) -> dict[str, Any]:
    log.write_text("")
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(seed: int) -> None:
        chooser = random.Random(seed)
        with httpx.Client(base_url=url, timeout=30) as session:
            while time.monotonic() < deadline:
                cookie = {settings.SESSION_COOKIE_NAME: chooser.choice(cookies)}
                started = time.perf_counter()
                response = session.get(path, cookies=cookie)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        failures.append(response.status_code)

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(clients)]
    begun = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - begun
    time.sleep(1)  # the access log's last lines
    server = [
        int(line.split()[2]) / 1000
        for line in log.read_text().splitlines()
        if line.startswith(path + " ") or line.split()[0] == path
    ]
    return {
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / took, 1),
        "not_200": len(failures),
        "server_ms": _percentiles(server),
        "client_ms": _percentiles(latencies),
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {}
    cuts = statistics.quantiles(values, n=100)
    return {"p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "p99": round(cuts[98], 1)}


if __name__ == "__main__":
    main()
