"""How long protecting one anonymous statistics run takes: every table of every purpose and
category (28 pairs) by municipality, district, neighbourhood and age band, protected together
(consent.reports.breakdowns), as the nightly run does once after counting.

    .venv/bin/python benchmarks/bench_statistics_protection.py 120000 100

Builds the run's counts in memory (no database): RESIDENTS residents, a share of them (40%)
agreeing to statistics, in NEIGHBOURHOODS neighbourhoods of 10 districts with ages over ten
bands, each purpose and category held with its own probability (from 60% down to a few rare
ones at 0.2%). Prints how many counts the run publishes, how many are hidden, and the time.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from consent.reports import breakdowns  # noqa: E402


def run_counts(residents: int, neighbourhoods: int, seed: int = 7) -> breakdowns.RunCounts:
    chooser = random.Random(seed)
    kind = {1: "municipality"}
    parent: dict[int, int | None] = {1: None}
    for district in range(2, 12):
        kind[district], parent[district] = "district", 1
    homes = []
    for n in range(neighbourhoods):
        area = 100 + n
        kind[area], parent[area] = "neighbourhood", 2 + n % 10
        homes.append(area)
    likelihood = {
        pair: chooser.choice([0.6, 0.3, 0.1, 0.03, 0.01, 0.002]) for pair in breakdowns.PAIRS
    }
    known: Counter[tuple[int | None, str]] = Counter()
    consenting: dict[str, Counter[tuple[int | None, str]]] = {p: Counter() for p in likelihood}
    totals: Counter[str] = Counter()
    for _ in range(residents):
        shares = chooser.random() < 0.4
        cell = (chooser.choice(homes), chooser.choice(breakdowns.AGE_BANDS)) if shares else None
        if cell is not None:
            known[cell] += 1
        for pair, p in likelihood.items():
            if chooser.random() < p:
                totals[pair] += 1
                if cell is not None:
                    consenting[pair][cell] += 1
    return breakdowns.RunCounts(
        registered=residents,
        known=known,
        consenting=consenting,
        consenting_totals=totals,
        areas=breakdowns.Areas(kind=kind, parent=parent),
    )


def main() -> None:
    residents = int(sys.argv[1]) if len(sys.argv) > 1 else 120_000
    neighbourhoods = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    counts = run_counts(residents, neighbourhoods)
    published = len(breakdowns.linked(counts).counts)
    started = time.perf_counter()
    hidden = breakdowns.hidden_counts(counts)
    took = time.perf_counter() - started
    small = sum(1 for how in hidden.values() if how == "<10")
    sys.stdout.write(
        f"{residents:,} residents, {neighbourhoods} neighbourhoods: {published:,} counts "
        f"published, {small:,} small and {len(hidden) - small:,} protecting hidden, "
        f"protected in {took:.1f} s\n"
    )


if __name__ == "__main__":
    main()
