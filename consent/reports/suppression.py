"""Small-count suppression for the tables of the consent reports.

No report lets anyone learn how many residents, fewer than ten, a cell counts. Such a cell is
shown as "<10" (primary suppression), and as many other cells as it takes are hidden too, shown
as "×" (complementary suppression), so that no hidden count can be worked out from the totals
and the cells left: given everything published, each hidden count could still be any of at
least ``MIN_POSSIBLE`` whole numbers.

Tables are rarely alone. A district's count is its neighbourhoods' counts added up, every
breakdown of a purpose shares that purpose's totals, and a week's active consents follow from
the week before and the week's decisions. So the counts are protected as a ``Linked`` set:
every count that is published anywhere, and every linear equation someone could know between
them. What they could work out of a hidden count is then the least and greatest value of a
linear programme over the hidden counts and the counts never published ("latent"), and a count
is protected against everything published together, not one table at a time. For a single
two-way table with its margins the programme's bounds are whole numbers (it is a network); for
linked tables they bound the whole numbers from outside, as statistical offices' tools (such as
τ-ARGUS) reckon them.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
from numpy.typing import NDArray

logger = logging.getLogger(__name__)

# A count below this is never shown.
SMALL = 10
# A hidden count must remain any of at least this many values, given what is published.
MIN_POSSIBLE = 3
# How far off a whole number the solver's optimum may lie and still be that number.
_TOLERANCE = 1e-6


class CannotProtect(ValueError):
    """What is known besides the counts gives a small count away whatever is hidden."""


class Hidden(enum.Enum):
    """Why a count is not shown."""

    SMALL = "<10"  # fewer than ten residents
    PROTECTING = "×"  # ten or more, hidden so that a small count cannot be worked out

    def __str__(self) -> str:
        return self.value


Shown = int | Hidden
Key = Hashable
# A position in the table with its margins: (row, column); row ``len(rows)`` holds the column
# totals, column ``len(columns)`` the row totals, and the corner the grand total.
Position = tuple[int, int]


@dataclass(frozen=True)
class Equation:
    """What someone could know of some counts: the sum of each count times its coefficient is
    ``constant``."""

    terms: Mapping[Key, int]
    constant: int = 0

    @staticmethod
    def total(whole: Key, parts: Sequence[Key], rest: int = 0) -> Equation:
        """``whole`` is the sum of ``parts`` and ``rest``."""
        return Equation({**dict.fromkeys(parts, 1), whole: -1}, -rest)

    @staticmethod
    def at_most(smaller: Key, larger: Sequence[Key], slack: Key) -> Equation:
        """``smaller`` is at most the sum of ``larger``; what is left is ``slack`` (make it a
        latent count, at least 0)."""
        return Equation({**dict.fromkeys(larger, -1), smaller: 1, slack: 1})


@dataclass(frozen=True)
class Linked:
    """Counts published together, and the equations between them.

    ``counts`` are the published counts with their true values; ``latent`` the unknowns that
    are never published, with their bounds (least, greatest or None). Counts in ``margins``
    (totals) are hidden to protect others only when no inner count will do; counts in
    ``hidden_from_start`` are hidden whatever they count (a count that is never shown but
    could be worked out, such as the registered less a part of them).
    """

    counts: Mapping[Key, int]
    equations: Sequence[Equation]
    latent: Mapping[Key, tuple[int, int | None]] = field(default_factory=dict)
    margins: frozenset[Key] = frozenset()
    hidden_from_start: Mapping[Key, Hidden] = field(default_factory=dict)


@dataclass(frozen=True)
class Published:
    """A table as it may be shown: every cell, row total, column total and the grand total, as
    its count or how it is hidden."""

    cells: tuple[tuple[Shown, ...], ...]
    row_totals: tuple[Shown, ...]
    column_totals: tuple[Shown, ...]
    total: Shown

    def grid(self) -> list[list[Shown]]:
        """The table with its margins as one grid (see ``Position``)."""
        rows = [[*row, total] for row, total in zip(self.cells, self.row_totals, strict=True)]
        return [*rows, [*self.column_totals, self.total]]


def suppress(cells: Sequence[Sequence[int]]) -> Published:
    """The table of these counts (rows of equal length, each count at least 0) with its
    margins, small counts hidden and as few other counts as it takes to protect them."""
    grid = _with_margins(cells)
    hidden = suppress_linked(_grid_linked(grid))
    shown: list[list[Shown]] = [
        [hidden.get((i, j), int(grid[i, j])) for j in range(grid.shape[1])]
        for i in range(grid.shape[0])
    ]
    return Published(
        cells=tuple(tuple(row[:-1]) for row in shown[:-1]),
        row_totals=tuple(row[-1] for row in shown[:-1]),
        column_totals=tuple(shown[-1][:-1]),
        total=shown[-1][-1],
    )


def suppress_linked(linked: Linked) -> dict[Key, Hidden]:
    """How each count that may not be shown is hidden: the small ones, those hidden from the
    start, and as few others as it takes so that none of them can be worked out."""
    hidden: dict[Key, Hidden] = {
        key: Hidden.SMALL for key, count in linked.counts.items() if count < SMALL
    }
    hidden.update(
        (key, Hidden.SMALL if linked.counts[key] < SMALL else how)
        for key, how in linked.hidden_from_start.items()
    )
    structure = _Structure(linked, hidden)
    # Hiding one more count only widens what every hidden count could be (a fixed value becomes
    # a range that holds it), so a count found safe stays safe: each is checked once.
    safe: set[Key] = set()
    while exposed := _exposed(structure, safe):
        for key in exposed:
            structure.hide(_protector(structure, key), Hidden.PROTECTING)
    return structure.hidden


def suppress_linked_or_all(linked: Linked) -> dict[Key, Hidden]:
    """``suppress_linked``, or, where what is known besides the counts gives one away whatever
    is hidden, every count hidden."""
    try:
        return suppress_linked(linked)
    except CannotProtect as error:
        logger.warning("Hiding every count of a report table: %s", error)
        return {
            key: Hidden.SMALL if count < SMALL else Hidden.PROTECTING
            for key, count in linked.counts.items()
        }


def possible_ranges(published: Published) -> dict[Position, tuple[int, int | None]]:
    """For each hidden count of a table, the least and the greatest value it can have given
    what is published (None: no greatest, as when a total is hidden too): what someone trying
    to undo the suppression could work out."""
    grid = published.grid()
    hidden: dict[Key, Hidden] = {
        (i, j): value
        for i, row in enumerate(grid)
        for j, value in enumerate(row)
        if isinstance(value, Hidden)
    }
    known = np.array(
        [[0 if isinstance(value, Hidden) else value for value in row] for row in grid],
        dtype=np.int64,
    )
    ranges = linked_ranges(_grid_linked(known), hidden)
    positions = sorted(
        (i, j) for i, row in enumerate(grid) for j, v in enumerate(row) if isinstance(v, Hidden)
    )
    return {position: ranges[position] for position in positions}


def linked_ranges(
    linked: Linked, hidden: Mapping[Key, Hidden]
) -> dict[Key, tuple[int, int | None]]:
    """Least and greatest value of each hidden count, given the shown ones (their values in
    ``linked.counts``; those of hidden counts are not looked at) and the equations."""
    if not hidden:
        return {}
    system = _System(_Structure(linked, dict(hidden)))
    return {key: (system.least(key), system.greatest(key)) for key in system.hidden_order}


# ------------------------------------------------------------------------------------------------


def _with_margins(cells: Sequence[Sequence[int]]) -> NDArray[np.int64]:
    table = np.array(cells, dtype=np.int64)
    if table.ndim != 2 or table.size == 0:
        raise ValueError("a table needs at least one row and one column")
    if (table < 0).any():
        raise ValueError("counts cannot be negative")
    grid = np.zeros((table.shape[0] + 1, table.shape[1] + 1), dtype=np.int64)
    grid[:-1, :-1] = table
    grid[:-1, -1] = table.sum(axis=1)
    grid[-1, :-1] = table.sum(axis=0)
    grid[-1, -1] = table.sum()
    return grid


def _grid_linked(grid: NDArray[np.int64]) -> Linked:
    """A table with its margins: each row's cells make its total, each column's too."""
    rows, columns = grid.shape
    equations = [
        Equation.total((i, columns - 1), [(i, j) for j in range(columns - 1)]) for i in range(rows)
    ]
    equations += [
        Equation.total((rows - 1, j), [(i, j) for i in range(rows - 1)]) for j in range(columns)
    ]
    return Linked(
        counts={(i, j): int(grid[i, j]) for i in range(rows) for j in range(columns)},
        equations=equations,
        margins=frozenset(
            (i, j) for i in range(rows) for j in range(columns) if i == rows - 1 or j == columns - 1
        ),
    )


class _Structure:
    """The linked counts, numbered, with the equations each count is in, the hidden ones, and
    how many unknowns (hidden or latent counts) each equation holds, kept as counts are hidden."""

    def __init__(self, linked: Linked, hidden: dict[Key, Hidden]) -> None:
        self.linked = linked
        self.hidden = hidden
        self.order = {key: n for n, key in enumerate([*linked.counts, *linked.latent])}
        self.equations_of: dict[Key, list[int]] = {key: [] for key in self.order}
        self.unknowns = [0] * len(linked.equations)
        self.hidden_in = [0] * len(linked.equations)
        for e, equation in enumerate(linked.equations):
            for key in equation.terms:
                self.equations_of[key].append(e)
                self.unknowns[e] += key in hidden or key in linked.latent
                self.hidden_in[e] += key in hidden
        # Equations with one unknown: the rest of the equation gives it away.
        self.alone = {e for e, n in enumerate(self.unknowns) if n == 1}

    def hide(self, key: Key, how: Hidden) -> None:
        self.hidden[key] = how
        for e in self.equations_of[key]:
            self.unknowns[e] += 1
            self.hidden_in[e] += 1
            if self.unknowns[e] == 1:
                self.alone.add(e)
            else:
                self.alone.discard(e)

    def given_away(self) -> Key | None:
        """A hidden count that is the only unknown of an equation, if any."""
        for e in sorted(self.alone):
            if (key := self.given_away_by(e)) is not None:
                return key
        return None

    def given_away_by(self, e: int) -> Key | None:
        """The hidden count equation ``e`` gives away, if it holds one unknown and that is one."""
        if self.unknowns[e] != 1:
            return None
        return next((key for key in self.linked.equations[e].terms if key in self.hidden), None)


def _exposed(structure: _Structure, safe: set[Key]) -> list[Key]:
    """Hidden counts that could be worked out to fewer than MIN_POSSIBLE values: one given
    away by an equation, else the first of each group of unknowns that no equation joins to
    another (hiding a count in one group changes nothing in the others, so each group's can be
    protected at once). ``safe`` holds counts already found safe, and gains those found now."""
    if (alone := structure.given_away()) is not None:
        return [alone]  # no programme needed
    system = _System(structure)
    exposed: dict[int, Key] = {}
    for key in system.hidden_order:
        group = system.group_of(key)
        if key in safe or group in exposed:
            continue
        if system.leaves_open(key, truth=structure.linked.counts[key]):
            safe.add(key)
        else:
            exposed[group] = key
    return list(exposed.values())


def _protector(structure: _Structure, exposed: Key) -> Key:
    """The count to hide next. An equation with one unknown gives it away, so the count is taken
    from such equations: inner counts before totals (a hidden total tells readers the least,
    and a total of many tables hides a row of each), one lying in two of them first, then one
    whose other equations already hold an unknown (closing a cycle of hidden counts, which is
    what protects them), the smallest. With no such equation, from the exposed count's
    equations, else anywhere."""
    linked, hidden = structure.linked, structure.hidden

    def may_hide(key: Key) -> bool:
        return key in linked.counts and key not in hidden

    def cost(key: Key) -> tuple[bool, int, bool, int, int]:
        own = structure.equations_of[key]
        gives_away = sum(1 for e in own if e in given_away)
        crosses = any(structure.hidden_in[e] for e in own)
        return (
            key in linked.margins,
            -gives_away,
            not crosses,
            linked.counts[key],
            structure.order[key],
        )

    def keys_in(chosen: Iterable[int]) -> set[Key]:
        return {key for e in chosen for key in linked.equations[e].terms if may_hide(key)}

    given_away = {e for e in structure.alone if structure.given_away_by(e) is not None}
    for candidates in (
        keys_in(given_away),
        keys_in(structure.equations_of[exposed]),
        {key for key in linked.counts if may_hide(key)},
    ):
        if candidates:
            return min(candidates, key=cost)
    raise CannotProtect("every count is hidden, and a hidden count is still exposed")


class _System:
    """What is published, as a linear programme over the hidden and latent counts: each
    equation holds; "<10" is 0–9, "×" at least 10, a latent count within its bounds.

    The unknowns fall apart into groups that no equation joins (a purpose's tables, when the
    counts they share are shown); each count's bounds are worked out in its own group."""

    def __init__(self, structure: _Structure) -> None:
        linked, hidden = structure.linked, structure.hidden
        self.hidden_order = sorted(hidden, key=structure.order.__getitem__)
        unknowns = [*self.hidden_order, *linked.latent]
        self.column_of = {key: k for k, key in enumerate(unknowns)}
        self.bounds: list[tuple[int, int | None]] = [
            (0, SMALL - 1) if hidden[key] is Hidden.SMALL else (SMALL, None)
            for key in self.hidden_order
        ]
        self.bounds += list(linked.latent.values())
        rows: list[tuple[dict[int, float], float]] = []
        for equation in linked.equations:
            target = float(equation.constant)
            row: dict[int, float] = {}
            for key, coefficient in equation.terms.items():
                if key in self.column_of:
                    row[self.column_of[key]] = row.get(self.column_of[key], 0.0) + coefficient
                else:
                    target -= coefficient * linked.counts[key]
            # An equation of shown counts only constrains nothing hidden: left out, the
            # programme shrinks.
            if row:
                rows.append((row, target))
        rows = _settled(rows, first_latent=len(self.hidden_order))
        self.rows = [list(row.items()) for row, _target in rows]
        self.targets = [target for _row, target in rows]
        groups = _Groups(len(unknowns))
        for row, _target in rows:
            groups.join(list(row))
        self.groups = groups
        self._programmes: dict[int, _Programme] = {}

    def least(self, key: Key) -> int:
        least = self._programme(key).optimum(key, sign=1.0)
        assert least is not None  # every count is at least 0
        # A whole number: the least at or above the programme's (which, for linked tables,
        # may lie between two).
        return math.ceil(least - _TOLERANCE)

    def greatest(self, key: Key) -> int | None:
        greatest = self._programme(key).optimum(key, sign=-1.0)
        return None if greatest is None else math.floor(-greatest + _TOLERANCE)

    def leaves_open(self, key: Key, *, truth: int) -> bool:
        """Could the count be any of at least MIN_POSSIBLE values? One programme settles it
        when the greatest lies far enough above the true count; else two."""
        greatest = self.greatest(key)
        if greatest is None or greatest - truth + 1 >= MIN_POSSIBLE:
            return True
        return greatest - self.least(key) + 1 >= MIN_POSSIBLE

    def group_of(self, key: Key) -> int:
        return self.groups.find(self.column_of[key])

    def _programme(self, key: Key) -> _Programme:
        group = self.groups.find(self.column_of[key])
        if group not in self._programmes:
            columns = [c for c in range(len(self.bounds)) if self.groups.find(c) == group]
            rows = [r for r, row in enumerate(self.rows) if self.groups.find(row[0][0]) == group]
            self._programmes[group] = _Programme(self, columns, rows)
        return self._programmes[group]


def _settled(
    rows: list[tuple[dict[int, float], float]], *, first_latent: int
) -> list[tuple[dict[int, float], float]]:
    """The equations with every latent count that one of them fixes (its only unknown) put in
    as its value. Such a count joins nothing: left in, it would join every group of unknowns
    it appears with into one programme (a neighbourhood's residents, shown, into every
    purpose's tables)."""
    value: dict[int, float] = {}
    changed = True
    while changed:
        changed = False
        kept = []
        for row, target in rows:
            for column in [c for c in row if c in value]:
                target -= row.pop(column) * value[column]
            if len(row) == 1 and (column := next(iter(row))) >= first_latent:
                value[column] = target / row[column]
                changed = True
            elif row:
                kept.append((row, target))
        rows = kept
    return rows


class _Groups:
    """Union-find over the unknowns: which ones some equations join."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def join(self, items: list[int]) -> None:
        first = self.find(items[0])
        for item in items[1:]:
            self.parent[self.find(item)] = first


class _Programme:
    """One group's linear programme, kept in the solver: asking for another count's bounds
    changes only the objective, and the solver starts from the basis it found last (a few
    pivots instead of a new solve)."""

    def __init__(self, system: _System, columns: list[int], rows: list[int]) -> None:
        self.local = {column: n for n, column in enumerate(columns)}
        self.keys = system.column_of
        by_column: list[list[tuple[int, float]]] = [[] for _ in columns]
        for r, row_number in enumerate(rows):
            for column, value in system.rows[row_number]:
                by_column[self.local[column]].append((r, value))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(columns), len(rows)
        lp.col_cost_ = np.zeros(len(columns))
        lp.col_lower_ = np.array([float(system.bounds[c][0]) for c in columns])
        lp.col_upper_ = np.array([_upper(system.bounds[c][1]) for c in columns])
        targets = np.array([system.targets[r] for r in rows], dtype=np.float64)
        lp.row_lower_, lp.row_upper_ = targets, targets
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.cumsum([0, *map(len, by_column)])
        lp.a_matrix_.index_ = np.array(
            [r for entries in by_column for r, _v in entries], dtype=np.int32
        )
        lp.a_matrix_.value_ = np.array([v for entries in by_column for _r, v in entries])
        self.solver = highspy.Highs()  # type: ignore[no-untyped-call]
        self.solver.setOptionValue("output_flag", False)
        # Presolve would throw the basis away between solves.
        self.solver.setOptionValue("presolve", "off")
        self.solver.setOptionValue("simplex_strategy", 4)  # primal: the basis stays feasible
        self.solver.passModel(lp)
        self.costed: int | None = None

    def optimum(self, key: Key, *, sign: float) -> float | None:
        """The least value of ``sign`` times the count; None where there is none (unbounded: a
        hidden count that no shown total limits)."""
        column = self.local[self.keys[key]]
        if self.costed is not None and self.costed != column:
            self.solver.changeColCost(self.costed, 0.0)
        self.solver.changeColCost(column, sign)
        self.costed = column
        self.solver.run()
        status = self.solver.getModelStatus()
        if status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            # The equations contradict the counts: a relation taken as known does not hold.
            raise CannotProtect(f"the published counts have no solution: {status}")
        return float(self.solver.getInfo().objective_function_value)


def _upper(bound: int | None) -> float:
    return highspy.kHighsInf if bound is None else float(bound)
