"""The breakdowns of an anonymous statistics run, protected together.

A run is published as many tables: for each purpose and data category, residents with and
without the consent by municipality, by district, by neighbourhood and by age band (the
coverage of warnings is one of them). They share a great deal: every table of a purpose has
that purpose's totals, every table by districts has the residents known in each district, a
district's row is its neighbourhoods' rows added up, and the rows of every table add up to the
residents registered. Protected one table at a time, a count hidden in one could be worked out
from another (a district less its other neighbourhoods, an area's residents hidden for one
purpose and shown for the next).

So all of a run's counts are protected as one ``Linked`` set, once, when the run is recorded,
and the pages show each table's counts as that decided (``PlanningStatisticsRun.hidden``).
Residents counted in an area but in none of its parts (a home registered with a district
only) are never published: they enter the equations as unknowns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, partial

from consent.catalogue import Category, PurposeCode
from consent.policy import AGE_BAND_WIDTH
from consent.reports.suppression import SMALL, Equation, Hidden, Key, Linked, suppress_linked_or_all
from portal.models import Area

AGE = "age"
UNPLACED = "unplaced"
REGISTERED = "R"


def area_grouping(kind: str) -> str:
    return f"area-{kind}"


# Every table by age lists these bands, residents in them or not (a band left out would say
# nobody is in it), and any older band someone is in.
AGE_BANDS = [f"{low}-{low + AGE_BAND_WIDTH - 1}" for low in range(0, 100, AGE_BAND_WIDTH)]
GROUPINGS = [*(area_grouping(kind) for kind in Area.Kind.values), AGE]
PAIRS = [f"{purpose}/{category}" for purpose in PurposeCode.values for category in Category.values]


def known_key(grouping: str, group: str) -> str:
    """Residents known in a group (the row total of every table of that grouping)."""
    return f"k|{grouping}|{group}"


def consenting_key(pair: str, grouping: str, group: str) -> str:
    return f"c|{pair}|{grouping}|{group}"


def not_consenting_key(pair: str, grouping: str, group: str) -> str:
    return f"n|{pair}|{grouping}|{group}"


def consenting_total_key(pair: str) -> str:
    return f"C|{pair}"


def not_consenting_total_key(pair: str) -> str:
    return f"N|{pair}"


# Own counts of a run: (lowest area of the home or None, age band or "") -> residents.
Cells = Mapping[tuple[int | None, str], int]


@dataclass(frozen=True)
class Areas:
    """The area tree: each area's kind and parent."""

    kind: Mapping[int, str]
    parent: Mapping[int, int | None]

    @classmethod
    def load(cls) -> Areas:
        rows = Area.objects.values_list("pk", "kind", "parent_id")
        return cls(
            kind={pk: kind for pk, kind, _parent in rows},
            parent={pk: parent for pk, _kind, parent in rows},
        )

    def of_kind(self, kind: str) -> list[int]:
        return sorted(pk for pk, its_kind in self.kind.items() if its_kind == kind)

    def ancestor_of_kind(self, area: int, kind: str) -> int | None:
        """The area itself or the nearest area above it of ``kind``, if any."""
        reached: int | None = area
        while reached is not None and self.kind.get(reached) != kind:
            reached = self.parent.get(reached)
        return reached


def grouped(cells: Cells, areas: Areas, grouping: str, total: int) -> dict[str, int]:
    """The cells counted per group of ``grouping``, every group present (an area where nobody
    is known counts 0), and what no group takes: ``total`` less the groups."""
    groups: Counter[str] = Counter()
    if grouping == AGE:
        groups.update(dict.fromkeys(AGE_BANDS, 0))
        for (_area, band), residents in cells.items():
            if band:
                groups[band] += residents
    else:
        kind = grouping.removeprefix("area-")
        groups.update(dict.fromkeys(map(str, areas.of_kind(kind)), 0))
        for (area, _band), residents in cells.items():
            if area is not None and (reached := areas.ancestor_of_kind(area, kind)) is not None:
                groups[str(reached)] += residents
    return {**groups, UNPLACED: total - sum(groups.values())}


@dataclass(frozen=True)
class RunCounts:
    """Everything a run publishes, before any count is hidden."""

    registered: int
    known: Cells
    consenting: Mapping[str, Cells]  # pair -> its cells
    consenting_totals: Mapping[str, int]  # pair -> residents with the consent
    areas: Areas
    pairs: Sequence[str] = tuple(PAIRS)  # the "purpose/category" pairs with tables

    def known_in(self, grouping: str) -> dict[str, int]:
        return self._known_by_grouping[grouping]

    @cached_property
    def _known_by_grouping(self) -> dict[str, dict[str, int]]:
        # Every pair's tables take their groups from these: counted once.
        return {g: grouped(self.known, self.areas, g, self.registered) for g in GROUPINGS}

    def consenting_in(self, pair: str, grouping: str) -> dict[str, int]:
        """The groups of ``known_in``, each with how many of its residents have the consent."""
        total = self.consenting_totals.get(pair, 0)
        counted = grouped(self.consenting.get(pair, {}), self.areas, grouping, total)
        groups = {group: counted.get(group, 0) for group in self.known_in(grouping)}
        return {**groups, UNPLACED: total - sum(n for g, n in groups.items() if g != UNPLACED)}

    def nesting(self) -> Iterator[tuple[str, str, list[tuple[str, str]]]]:
        """(grouping, area, its parts) for each area with areas below it: the areas of the
        next level down inside it, and any deeper area inside it that has none of that level
        above it (a neighbourhood right under the municipality), each as (grouping, area)."""
        kinds = list(Area.Kind.values)
        for level, (above, below) in enumerate(zip(kinds, kinds[1:], strict=False)):
            deeper = kinds[level + 2 :]
            inside: dict[int, list[tuple[str, str]]] = {}
            for area, kind in sorted(self.areas.kind.items()):
                if kind != below and (
                    kind not in deeper or self.areas.ancestor_of_kind(area, below) is not None
                ):
                    continue
                parent = self.areas.parent.get(area)
                reached = None if parent is None else self.areas.ancestor_of_kind(parent, above)
                if reached is not None:
                    inside.setdefault(reached, []).append((area_grouping(kind), str(area)))
            for area, parts in sorted(inside.items()):
                yield area_grouping(above), str(area), self._outermost(parts)

    def _outermost(self, parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The parts not inside another of them (areas of a lower kind may hold areas of a
        higher one: a whole is the sum of parts that do not overlap)."""
        ids = {int(area) for _grouping, area in parts}

        def inside_another(area: int) -> bool:
            reached = self.areas.parent.get(area)
            while reached is not None:
                if reached in ids:
                    return True
                reached = self.areas.parent.get(reached)
            return False

        return [(grouping, area) for grouping, area in parts if not inside_another(int(area))]


def linked(counts: RunCounts) -> Linked:
    """The run's counts and every equation between them."""
    values: dict[Key, int] = {REGISTERED: counts.registered}
    equations: list[Equation] = []
    latent: dict[Key, tuple[int, int | None]] = {}
    known = {grouping: counts.known_in(grouping) for grouping in GROUPINGS}
    for grouping, groups in known.items():
        values.update((known_key(grouping, group), n) for group, n in groups.items())
        equations.append(Equation.total(REGISTERED, [known_key(grouping, g) for g in groups]))
    equations += _nested(counts, known_key, latent)
    for pair in counts.pairs:
        if broken_down(counts.consenting_totals, pair):
            equations += _pair(counts, pair, known, values)
            equations += _nested(counts, partial(consenting_key, pair), latent)
            # Of those living in an area but in none of its parts, some have the consent.
            for above, area, _parts in counts.nesting():
                whole = _own_key(known_key(above, area))
                part = _own_key(consenting_key(pair, above, area))
                latent[f"{part}|without"] = (0, None)
                equations.append(Equation.total(whole, [part, f"{part}|without"]))
        else:
            equations.append(_pair_totals(counts, pair, values))
    margins = {key for key in values if str(key).startswith(("k|", "C|", "N|", REGISTERED))}
    return Linked(counts=values, equations=equations, latent=latent, margins=frozenset(margins))


def _nested(
    counts: RunCounts, key_of: Callable[[str, str], str], latent: dict[Key, tuple[int, int | None]]
) -> list[Equation]:
    """An area's count is the sum of its parts' and of those counted in none of them (never
    published)."""
    equations = []
    for above, area, parts in counts.nesting():
        whole = key_of(above, area)
        latent[_own_key(whole)] = (0, None)
        parts_keys = [key_of(grouping, part) for grouping, part in parts]
        equations.append(Equation.total(whole, [*parts_keys, _own_key(whole)]))
    return equations


def _own_key(key: str) -> str:
    """Residents counted in an area but in none of its parts."""
    return f"own|{key}"


def _pair(
    counts: RunCounts,
    pair: str,
    known: Mapping[str, Mapping[str, int]],
    values: dict[Key, int],
) -> list[Equation]:
    """The counts of one purpose and category's tables (into ``values``), and their equations."""
    equations = [_pair_totals(counts, pair, values)]
    consenting = {grouping: counts.consenting_in(pair, grouping) for grouping in GROUPINGS}
    total, rest = consenting_total_key(pair), not_consenting_total_key(pair)
    for grouping, groups in consenting.items():
        with_it = [consenting_key(pair, grouping, group) for group in groups]
        without = [not_consenting_key(pair, grouping, group) for group in groups]
        for group, c_key, n_key in zip(groups, with_it, without, strict=True):
            values[c_key] = groups[group]
            values[n_key] = known[grouping][group] - groups[group]
            equations.append(Equation.total(known_key(grouping, group), [c_key, n_key]))
        equations.append(Equation.total(total, with_it))
        equations.append(Equation.total(rest, without))
    return equations


def _pair_totals(counts: RunCounts, pair: str, values: dict[Key, int]) -> Equation:
    """Residents with the consent and without it (into ``values``): all registered."""
    total, rest = consenting_total_key(pair), not_consenting_total_key(pair)
    values[total] = counts.consenting_totals.get(pair, 0)
    values[rest] = counts.registered - values[total]
    return Equation.total(REGISTERED, [total, rest])


def hidden_counts(counts: RunCounts) -> dict[str, str]:
    """Key -> "<10" or "×" for each count of the run's tables that is not shown.

    All of them at once: protected one purpose at a time, with the counts they share taken as
    decided, two purposes' tables together could still narrow a count hidden in both (the
    property test found such a run).
    """
    return {str(key): how.value for key, how in suppress_linked_or_all(linked(counts)).items()}


def broken_down(consenting_totals: Mapping[str, int], pair: str) -> bool:
    """Whether a run has tables for the pair: not when fewer than ten residents have the
    consent (every count of them would be small; the page says so instead)."""
    return consenting_totals.get(pair, 0) >= SMALL


def shown(hidden: Mapping[str, str], key: str, count: int) -> int | Hidden:
    """A count as the run publishes it."""
    how = hidden.get(key)
    return count if how is None else Hidden(how)


def pair_of(purpose_code: str, category_code: str) -> str:
    return f"{purpose_code}/{category_code}"
