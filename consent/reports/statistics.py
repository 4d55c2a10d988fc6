"""The anonymous statistics behind the reports' breakdowns by area and age band, and the
coverage of warnings: counted from residents' home areas and age bands, which are attributes,
so read only through the consent gate under the purpose "anonymous statistics for city
planning" (``consent.policy.iter_profile_chunks``, each read in the data-use log).

A run walks every resident once, id range by id range. For each range it reads, in the gate,
those who agreed to the statistics purpose, and, in one query, the active consents of every
resident in the range. A resident who agreed is counted in their home area and age band; one who
did not is counted only in the run's totals, which need no attribute. Each resident's consents
are read once and used for both, so a breakdown's rows always add up to its totals.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from consent import policy
from consent.catalogue import Category, PurposeCode, RecipientCode
from consent.models import (
    ConsentState,
    PlanningStatisticsCount,
    PlanningStatisticsRun,
)
from consent.reports import breakdowns
from consent.reports.selectors import resident_accounts
from consent.selectors import active_grants_q
from portal.models import PlaceKind

READER = policy.Reader(
    kind="task",
    name=gettext_noop("the anonymous statistics of the consent reports"),
    recipient=RecipientCode.CITY,
)
# What a breakdown needs: the home's area and the age band. Nothing else is asked for.
CATEGORIES = (Category.PLACES, Category.AGE)

# Runs kept: the latest is shown; a few before it stay for comparison, older ones are deleted.
KEEP_RUNS = 7

CellKey = tuple[int | None, str, str, str]  # (area id, age band, purpose, category)


@dataclass
class _Counts:
    cells: Counter[CellKey] = field(default_factory=Counter)
    consenting: Counter[str] = field(default_factory=Counter)  # "purpose/category"
    registered: int = 0
    read: int = 0


def planning_statistics_compute(*, chunk_size: int = policy.RANGE_CHUNK) -> PlanningStatisticsRun:
    """Count every resident once and record the run (the nightly task and the command)."""
    started_at = timezone.now()
    residents = sorted(resident_accounts().values_list("pk", flat=True))
    counts = _Counts()
    low = 0
    for chunk in policy.iter_profile_chunks(
        purpose=PurposeCode.PLANNING_STATISTICS,
        reader=READER,
        categories=CATEGORIES,
        id_range=(0, residents[-1] if residents else 0),
        chunk_size=chunk_size,
    ):
        high = chunk.resident_ids[-1]
        _count_range(counts, residents, low, high, chunk)
        low = high + 1
    if residents and low <= residents[-1]:
        _count_range(counts, residents, low, residents[-1], None)
    return _recorded(started_at, counts)


def _hidden_counts(counts: _Counts) -> dict[str, str]:
    """Which counts of the run's tables are hidden, decided for all of them together
    (consent.reports.breakdowns) from the counts just made."""
    known: Counter[tuple[int | None, str]] = Counter()
    consenting: dict[str, Counter[tuple[int | None, str]]] = {}
    for (area, band, purpose, category), residents in counts.cells.items():
        if purpose:
            consenting.setdefault(breakdowns.pair_of(purpose, category), Counter())[
                (area, band)
            ] += residents
        else:
            known[(area, band)] += residents
    return breakdowns.hidden_counts(
        breakdowns.RunCounts(
            registered=counts.registered,
            known=known,
            consenting=consenting,
            consenting_totals=counts.consenting,
            areas=breakdowns.Areas.load(),
        )
    )


def _count_range(
    counts: _Counts,
    residents: list[int],
    low: int,
    high: int,
    chunk: policy.ProfileChunk | None,
) -> None:
    """Count the residents with ids from ``low`` to ``high``; ``chunk`` holds what the gate
    let the statistics purpose read of some of them."""
    in_range = set(_between(residents, low, high))
    consents = _active_consents(low, high, in_range)
    counts.registered += len(in_range)
    for held in consents.values():
        counts.consenting.update(
            breakdowns.pair_of(purpose, category) for purpose, category in held
        )
    if chunk is None:
        return
    homes = _home_areas(chunk)
    for row, resident_id in enumerate(chunk.resident_ids):
        if resident_id not in in_range:
            continue  # a staff account that agreed to statistics: not a resident
        area = homes.get(row)
        band = (chunk.age_bands[row] if chunk.age_bands else None) or ""
        counts.read += 1
        counts.cells[(area, band, "", "")] += 1
        counts.cells.update(
            (area, band, purpose, category) for purpose, category in consents.get(resident_id, ())
        )


def _between(ids: list[int], low: int, high: int) -> list[int]:
    return ids[bisect_left(ids, low) : bisect_right(ids, high)]


def _active_consents(low: int, high: int, residents: set[int]) -> dict[int, set[tuple[str, str]]]:
    held: dict[int, set[tuple[str, str]]] = {}
    for resident_id, purpose, category in ConsentState.objects.filter(
        active_grants_q(), resident_id__gte=low, resident_id__lte=high
    ).values_list("resident_id", "purpose__code", "category__code"):
        if resident_id in residents:
            held.setdefault(resident_id, set()).add((purpose, category))
    return held


def _home_areas(chunk: policy.ProfileChunk) -> dict[int, int]:
    """Row -> the area of the resident's first home place (a resident with two homes is
    counted once, where they registered a home first)."""
    homes: dict[int, int] = {}
    for row, kind, area in zip(
        chunk.place_resident_index or (),
        chunk.place_kinds or (),
        chunk.place_area_ids or (),
        strict=True,
    ):
        if kind == PlaceKind.HOME:
            homes.setdefault(row, area)
    return homes


@transaction.atomic
def _recorded(started_at: datetime, counts: _Counts) -> PlanningStatisticsRun:
    run = PlanningStatisticsRun.objects.create(
        started_at=started_at,
        registered=counts.registered,
        consenting=dict(sorted(counts.consenting.items())),
        residents_read=counts.read,
    )
    PlanningStatisticsCount.objects.bulk_create(
        _count_rows(run, counts.cells.items()), batch_size=5000
    )
    run.hidden = _hidden_counts(counts)
    run.finished_at = timezone.now()
    run.save(update_fields=["finished_at", "hidden"])
    kept = PlanningStatisticsRun.objects.order_by("-started_at").values("pk")[:KEEP_RUNS]
    PlanningStatisticsRun.objects.exclude(pk__in=list(kept.values_list("pk", flat=True))).delete()
    return run


def _count_rows(
    run: PlanningStatisticsRun, cells: Iterable[tuple[CellKey, int]]
) -> Iterable[PlanningStatisticsCount]:
    for (area, band, purpose, category), residents in cells:
        yield PlanningStatisticsCount(
            run=run,
            area_id=area,
            age_band=band,
            purpose_code=purpose,
            category_code=category,
            residents=residents,
        )
