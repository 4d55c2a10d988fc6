"""Response times while Redis is down or hung, and how long the site takes to recover.

    .venv/bin/python benchmarks/bench_resilience.py [REQUESTS]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/machiplus_bench \
        .venv/bin/python benchmarks/bench_resilience.py 50

Starts real processes (tests/resilience/processes.py): a Redis server of its own, the site under
gunicorn in production mode (one process, four threads), a Celery worker and beat. A signed-in
resident asks for the home page and "my data" REQUESTS times each (default 30), and a visitor
fails to log in four times (through allauth's rate limits, i.e. the cache), with Redis up,
killed (SIGKILL) and hung (SIGSTOP); /healthz is timed in each state. After each outage it prints
how long until /healthz says ok again, and, for the kill, until a task written to the task outbox
during the outage has been handed to the broker.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-resilience.sqlite3'}")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from portal.models import OutboxTask, User  # noqa: E402
from tests.resilience.processes import Browser, RedisServer, Site, wait_for  # noqa: E402

PAGES = ("/", "/me/")
FAILED_LOGIN = "failed login"
EMAIL = "bench-resilience@example.jp"


def timed(browser: Browser, requests: int, site_url: str) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {path: [] for path in (*PAGES, FAILED_LOGIN)}
    for _ in range(requests):
        for path in PAGES:
            response = browser.get(path)
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
            timings[path].append(response.seconds * 1000)
    # A failed login goes through allauth's rate limits, i.e. the cache: the request that shows
    # what an outage of Redis costs (a password check of about 0.5 s included).
    for _ in range(min(requests, 4)):
        visitor = Browser(site_url)
        visitor.get("/accounts/login/")
        response = visitor.post("/accounts/login/", {"login": EMAIL, "password": "wrong-guess"})
        timings[FAILED_LOGIN].append(response.seconds * 1000)
    return timings


def report(state: str, timings: dict[str, list[float]], health: dict[str, str]) -> None:
    for path, values in timings.items():
        print(
            f"  {state:<12} {path:<12} first {values[0]:7.1f} ms  median "
            f"{statistics.median(values):6.1f} ms  max {max(values):7.1f} ms"
        )
    seconds = float(health["seconds"]) * 1000
    print(
        f"  {state:<12} /healthz {health['status']} (HTTP {health['http_status']}) {seconds:.0f} ms"
    )


def recovery_times(site: Site, timeout: float = 180) -> dict[str, float]:
    """Seconds from now until /healthz says ok and until the task outbox is empty."""
    started = time.monotonic()
    reached: dict[str, float] = {}
    while len(reached) < 2 and time.monotonic() - started < timeout:
        elapsed = time.monotonic() - started
        if "healthz ok" not in reached and site.health()["status"] == "ok":
            reached["healthz ok"] = elapsed
        if "outbox empty" not in reached and not OutboxTask.objects.exists():
            reached["outbox empty"] = elapsed
        time.sleep(0.2)
    if len(reached) < 2:
        raise SystemExit(f"no full recovery within {timeout} s: {reached}")
    return reached


def seconds_until(condition: object, timeout: float = 180) -> float:
    started = time.monotonic()
    wait_for(condition, timeout=timeout, what="recovery")  # type: ignore[arg-type]
    return time.monotonic() - started


def database_url() -> str:
    return str(os.environ["DATABASE_URL"])


def main(requests: int) -> None:
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    User.objects.filter(email=EMAIL).delete()
    resident = User.objects.create_user(EMAIL, "not-used-here-9471")
    client = Client()
    client.force_login(resident)
    OutboxTask.objects.all().delete()
    print(f"database: {connection.vendor}; {requests} requests per page and state")

    with tempfile.TemporaryDirectory() as directory:
        redis_server = RedisServer(directory=Path(directory))
        redis_server.start()
        site = Site(redis=redis_server, tmp_path=Path(directory), database_url=database_url())
        site.mail_dir.mkdir()
        try:
            site.start_web()
            site.start_worker()
            site.start_beat()
            wait_for(lambda: site.health()["status"] == "ok", timeout=60, what="a healthy site")
            browser = Browser(site.url)
            browser.set_cookie("sessionid", client.cookies["sessionid"].value)

            report("Redis up", timed(browser, requests, site.url), site.health())

            redis_server.kill()
            report("Redis killed", timed(browser, requests, site.url), site.health())
            OutboxTask.objects.create(task_name="portal.clear_expired_sessions", kwargs={})
            redis_server.start()
            recovered = recovery_times(site)
            print(f"  restarted    /healthz ok after {recovered['healthz ok']:.1f} s")
            sent = recovered["outbox empty"]
            print(f"  restarted    outbox task handed to the broker after {sent:.1f} s")

            redis_server.pause()
            try:
                hung = timed(browser, requests, site.url)
                hung_health = site.health()
            finally:
                redis_server.resume()
            report("Redis hung", hung, hung_health)
            healthy = seconds_until(lambda: site.health()["status"] == "ok")
            print(f"  resumed      /healthz ok after {healthy:.1f} s")
        finally:
            site.stop()
            redis_server.stop()
    print(f"REDIS_TIMEOUT={settings.REDIS_TIMEOUT} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
