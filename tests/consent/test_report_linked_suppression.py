"""Suppression across all the tables of a statistics run: by municipality, district,
neighbourhood and age band, for several purposes. Whatever they publish together, no hidden
count can be worked out to fewer than three values — checked by an attacker written apart from
the code that hides: an exact integer programme over how many residents of each kind there are
(their lowest area, age band and consents), every published count a sum of those."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from consent.reports import breakdowns
from consent.reports.breakdowns import AGE, UNPLACED, Areas, RunCounts, area_grouping
from consent.reports.suppression import MIN_POSSIBLE, SMALL, Hidden

PAIRS = ["disaster_warnings/places", "personalised_home/age"]
PATTERNS = [frozenset(), *(frozenset([p]) for p in PAIRS), frozenset(PAIRS)]
BANDS = ["", "20-29", "30-39"]  # those residents are drawn in; the tables list every band
CEILING = 100_000


@dataclass(frozen=True)
class City:
    areas: Areas
    # One resident each: (lowest area of the home or None, age band or "", consents held).
    residents: list[tuple[int | None, str, frozenset[str]]]

    def run_counts(self) -> RunCounts:
        known: Counter[tuple[int | None, str]] = Counter()
        consenting: dict[str, Counter[tuple[int | None, str]]] = {p: Counter() for p in PAIRS}
        for area, band, held in self.residents:
            known[(area, band)] += 1
            for pair in held:
                consenting[pair][(area, band)] += 1
        return RunCounts(
            registered=len(self.residents),
            known=known,
            consenting=consenting,
            consenting_totals={p: sum(p in held for *_, held in self.residents) for p in PAIRS},
            areas=self.areas,
            pairs=PAIRS,
        )


@st.composite
def cities(draw: st.DrawFn) -> City:
    kind: dict[int, str] = {1: "municipality"}
    parent: dict[int, int | None] = {1: None}
    next_id = 2
    for _district in range(draw(st.integers(1, 3))):
        district = next_id
        kind[district], parent[district] = "district", 1
        next_id += 1
        for _neighbourhood in range(draw(st.integers(0, 3))):
            kind[next_id], parent[next_id] = "neighbourhood", district
            next_id += 1
    # Sometimes a neighbourhood right under the municipality: a tree may skip a level.
    if draw(st.booleans()):
        kind[next_id], parent[next_id] = "neighbourhood", 1
    homes = [None, *sorted(kind)]
    residents: list[tuple[int | None, str, frozenset[str]]] = []
    for home in homes:
        for band in BANDS:
            if draw(st.booleans()):
                continue
            for pattern in PATTERNS:
                count = draw(st.one_of(st.just(0), st.integers(0, 12), st.integers(8, 40)))
                residents += [(home, band, pattern)] * count
    return City(Areas(kind=kind, parent=parent), residents)


def resident_kinds(city: City) -> list[tuple[int | None, str, frozenset[str]]]:
    """Every kind of resident there could be (not only those there are)."""
    homes = [None, *sorted(city.areas.kind)]
    bands = ["", *breakdowns.AGE_BANDS]
    return [(home, band, pattern) for home in homes for band in bands for pattern in PATTERNS]


def published_sums(city: City) -> dict[str, Counter[int]]:
    """Each published count as the kinds of residents (indices of ``resident_kinds``) it adds
    up."""
    areas = city.areas
    kinds = resident_kinds(city)
    sums: dict[str, Counter[int]] = {}

    def group_of(grouping: str, area: int | None, band: str) -> str:
        if grouping == AGE:
            return band or UNPLACED
        reached = None if area is None else areas.ancestor_of_kind(area, grouping[5:])
        return UNPLACED if reached is None else str(reached)

    for index, (area, band, held) in enumerate(kinds):
        sums.setdefault(breakdowns.REGISTERED, Counter())[index] += 1
        for grouping in breakdowns.GROUPINGS:
            group = group_of(grouping, area, band)
            sums.setdefault(breakdowns.known_key(grouping, group), Counter())[index] += 1
            for pair in PAIRS:
                key = breakdowns.consenting_key if pair in held else breakdowns.not_consenting_key
                sums.setdefault(key(pair, grouping, group), Counter())[index] += 1
        for pair in PAIRS:
            total = (
                breakdowns.consenting_total_key
                if pair in held
                else breakdowns.not_consenting_total_key
            )
            sums.setdefault(total(pair), Counter())[index] += 1
    return sums


def attacker_ranges(
    city: City, published: set[str], hidden: dict[str, str]
) -> dict[str, tuple[int, int]]:
    """What the ``published`` counts tell of each hidden one, counts of residents being
    whole."""
    kinds = resident_kinds(city)
    truth = Counter(city.residents)
    sums = {key: parts for key, parts in published_sums(city).items() if key in published}
    rows: list[np.ndarray] = []
    lower: list[int] = []
    upper: list[int] = []
    for key, parts in sums.items():
        row = np.zeros(len(kinds))
        for index in parts:
            row[index] = 1
        value = sum(truth[kinds[index]] for index in parts)
        how = hidden.get(key)
        rows.append(row)
        least, greatest = {
            Hidden.SMALL.value: (0, SMALL - 1),
            Hidden.PROTECTING.value: (SMALL, CEILING),
        }.get(how or "", (value, value))
        lower.append(least)
        upper.append(greatest)
    constraint = LinearConstraint(np.array(rows), lower, upper)
    ranges = {}
    for key in hidden:
        objective = np.zeros(len(kinds))
        for index in sums[key]:
            objective[index] = 1
        found = []
        for sign in (1, -1):
            result = milp(
                sign * objective,
                constraints=constraint,
                integrality=np.ones(len(kinds)),
                bounds=Bounds(0, CEILING),
            )
            assert result.success, result.message
            found.append(round(sign * result.fun))
        ranges[key] = (found[0], found[1])
    return ranges


@settings(max_examples=25, deadline=None)
@given(city=cities())
def test_no_count_of_a_run_under_ten_can_be_worked_out_from_all_its_tables(city: City) -> None:
    assert_no_small_count_shown_or_worked_out(city)


def assert_no_small_count_shown_or_worked_out(city: City) -> None:
    counts = city.run_counts()
    linked = breakdowns.linked(counts)
    hidden = breakdowns.hidden_counts(counts)

    published = {str(key): value for key, value in linked.counts.items()}
    for key, value in published.items():
        if value < SMALL:
            assert hidden.get(key) == Hidden.SMALL.value, key
    for key, (least, greatest) in attacker_ranges(city, set(published), hidden).items():
        assert least <= published[key] <= greatest
        assert greatest - least + 1 >= MIN_POSSIBLE, (key, least, greatest)


def test_a_district_is_hidden_where_its_one_neighbourhood_would_tell_the_rest() -> None:
    # Twelve live in the district's one neighbourhood and nine nowhere shared: the table by
    # neighbourhoods would show the nine as registered less twelve.
    areas = Areas(
        kind={1: "municipality", 2: "district", 3: "neighbourhood"}, parent={1: None, 2: 1, 3: 2}
    )
    city = City(areas, [(3, "", frozenset())] * 12 + [(None, "", frozenset())] * 9)

    hidden = breakdowns.hidden_counts(city.run_counts())

    neighbourhood = breakdowns.known_key(area_grouping("neighbourhood"), "3")
    district = breakdowns.known_key(area_grouping("district"), "2")
    assert hidden.get(breakdowns.known_key(area_grouping("neighbourhood"), UNPLACED)) == "<10"
    assert (hidden.get(neighbourhood), hidden.get(district)) == ("×", "×")


@pytest.mark.parametrize("grouping", breakdowns.GROUPINGS)
def test_a_run_without_small_counts_hides_nothing(grouping: str) -> None:
    areas = Areas(
        kind={1: "municipality", 2: "district", 3: "neighbourhood", 4: "neighbourhood"},
        parent={1: None, 2: 1, 3: 2, 4: 2},
    )
    residents: list[tuple[int | None, str, frozenset[str]]] = []
    for home in (3, 4):
        for band in breakdowns.AGE_BANDS:
            for pattern in PATTERNS:
                residents += [(home, band, pattern)] * 10
    residents += [(None, "", frozenset(PAIRS))] * 10 + [(None, "", frozenset())] * 10
    counts = City(areas, residents).run_counts()

    hidden = breakdowns.hidden_counts(counts)

    assert not [key for key in hidden if f"|{grouping}|" in key]


def test_a_district_registered_under_a_neighbourhood_is_counted_once() -> None:
    # The database lets a district hang under a neighbourhood: the municipality's count is the
    # neighbourhood's (which holds the district), not both added up.
    areas = Areas(
        kind={1: "municipality", 2: "neighbourhood", 3: "district"}, parent={1: None, 2: 1, 3: 2}
    )
    consenting = frozenset(["disaster_warnings/places"])
    residents: list[tuple[int | None, str, frozenset[str]]] = [(3, "30-39", consenting)] * 10
    residents += [(3, "30-39", frozenset())] * 10
    city = City(areas, residents)

    assert_no_small_count_shown_or_worked_out(city)
