"""How long protecting a trend takes: each week's grants, refusals, withdrawals and expiries set
against the rounded active consents around them (consent.reports.pages.trend_published), as
the trends page and its exports do on every request, over every week since the first decision.

    .venv/bin/python benchmarks/bench_trend_protection.py

Builds weekly series in memory (no database) of 104 and 520 weeks (two and ten years), for a
common purpose (up to 400 grants a week) and rare ones (up to 20 and up to 4), and prints the
time and how many of the week's decisions are hidden.
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from consent.reports.pages import trend_published  # noqa: E402
from consent.reports.selectors import WeekOfConsents  # noqa: E402
from consent.reports.suppression import Hidden  # noqa: E402


def series(weeks: int, most_grants: int, seed: int = 1) -> list[WeekOfConsents]:
    chooser = random.Random(seed)
    active = 0
    made = []
    for n in range(weeks):
        granted = chooser.randint(0, most_grants)
        withdrawn = chooser.randint(0, max(1, most_grants // 3))
        expired = chooser.randint(0, max(1, most_grants // 10))
        stopped = min(active + granted, withdrawn + expired)
        active += granted - stopped
        made.append(
            WeekOfConsents(
                week=date(2025, 1, 6) + timedelta(weeks=n),
                granted=granted,
                refused=chooser.randint(0, max(1, most_grants // 5)),
                withdrawn=withdrawn,
                expired=expired,
                active=active,
                became_active=granted,
                stopped_active=stopped,
            )
        )
    return made


def main() -> None:
    for weeks in (104, 520):
        for most_grants in (400, 20, 4):
            trend = series(weeks, most_grants)
            started = time.perf_counter()
            events, _active = trend_published(trend)
            took = time.perf_counter() - started
            hidden = sum(isinstance(cell, Hidden) for week in events for cell in week)
            sys.stdout.write(
                f"{weeks} weeks, up to {most_grants} grants a week: {took * 1000:.0f} ms, "
                f"{hidden} of {4 * weeks} decisions hidden\n"
            )


if __name__ == "__main__":
    main()
