"""Small-count suppression for the tables of the consent reports.

No report lets anyone learn how many residents, fewer than ten, a cell counts. Such a cell is
shown as "<10" (primary suppression), and as many other cells as it takes are hidden too, shown
as "×" (complementary suppression), so that no hidden count can be worked out from the row and
column totals and the cells left: given everything published, each hidden count could still be
any of at least ``MIN_POSSIBLE`` whole numbers.

The check is exact. A two-way table with its margins is a network (each count lies in one row
sum and one column sum), so the least and greatest value a hidden count can take, given what is
published and that "<10" means 0–9 and "×" at least 10, are the bounds of a linear programme,
and those bounds are whole numbers.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog

# A count below this is never shown.
SMALL = 10
# A hidden count must remain any of at least this many values, given what is published.
MIN_POSSIBLE = 3


class Hidden(enum.Enum):
    """Why a count is not shown."""

    SMALL = "<10"  # fewer than ten residents
    PROTECTING = "×"  # ten or more, hidden so that a small count cannot be worked out

    def __str__(self) -> str:
        return self.value


Shown = int | Hidden
# A position in the table with its margins: (row, column); row ``len(rows)`` holds the column
# totals, column ``len(columns)`` the row totals, and the corner the grand total.
Position = tuple[int, int]


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
    hidden: dict[Position, Hidden] = {
        (i, j): Hidden.SMALL
        for i in range(grid.shape[0])
        for j in range(grid.shape[1])
        if grid[i, j] < SMALL
    }
    # Hiding one more count only widens what every hidden count could be (a fixed value becomes
    # a range that holds it), so a count found safe stays safe: each is checked once.
    safe: set[Position] = set()
    while exposed := _first_exposed(grid, hidden, safe):
        hidden[_protector(grid, hidden, exposed)] = Hidden.PROTECTING
    return _published(grid, hidden)


def possible_ranges(published: Published) -> dict[Position, tuple[int, int | None]]:
    """For each hidden count, the least and the greatest value it can have given what is
    published (None: no greatest, as when a total is hidden too): what someone trying to undo
    the suppression could work out."""
    grid = published.grid()
    hidden = {
        (i, j): value
        for i, row in enumerate(grid)
        for j, value in enumerate(row)
        if isinstance(value, Hidden)
    }
    known = np.array(
        [[0 if isinstance(value, Hidden) else value for value in row] for row in grid],
        dtype=np.int64,
    )
    return _ranges(known, hidden)


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


def _first_exposed(
    grid: NDArray[np.int64], hidden: dict[Position, Hidden], safe: set[Position]
) -> Position | None:
    """A hidden count that could be worked out to fewer than MIN_POSSIBLE values, if any;
    ``safe`` holds counts already found safe, and gains those found safe now."""
    if (alone := _alone_in_a_line(grid.shape, hidden)) is not None:
        return alone  # its line's total less the rest: no programme needed
    system = _System(np.where(_mask(grid.shape, hidden), 0, grid), hidden)
    for position in sorted(hidden.keys() - safe):
        if not system.leaves_open(position, truth=int(grid[position])):
            return position
        safe.add(position)
    return None


def _alone_in_a_line(shape: tuple[int, ...], hidden: dict[Position, Hidden]) -> Position | None:
    rows, columns = shape
    in_row: dict[int, list[Position]] = {}
    in_column: dict[int, list[Position]] = {}
    for position in sorted(hidden):
        in_row.setdefault(position[0], []).append(position)
        in_column.setdefault(position[1], []).append(position)
    for line in (*in_row.values(), *in_column.values()):
        if len(line) == 1:
            return line[0]
    return None


def _protector(
    grid: NDArray[np.int64], hidden: dict[Position, Hidden], exposed: Position
) -> Position:
    """The count to hide next. A row or column with one hidden count gives it away (its total
    minus the rest), so the count is taken from such lines, one lying on two of them first, then
    one whose other line already has a hidden count (closing a cycle of hidden counts, which is
    what protects them), inner cells before totals (a hidden total tells readers the least),
    the smallest. With no such line, from the exposed count's row or column, else anywhere."""
    rows, columns = grid.shape
    lines = [[(i, j) for j in range(columns)] for i in range(rows)]
    lines += [[(i, j) for i in range(rows)] for j in range(columns)]
    alone = [line for line in lines if sum(p in hidden for p in line) == 1]
    row, column = exposed
    exposed_lines = [lines[row], lines[rows + column]]

    def cost(p: Position) -> tuple[int, bool, bool, int, Position]:
        i, j = p
        own = (lines[i], lines[rows + j])
        gives_away = sum(1 for line in own if line in alone)
        crosses = any(q in hidden for line in own for q in line)
        inner = i < rows - 1 and j < columns - 1
        return (-gives_away, not crosses, not inner, int(grid[p]), p)

    everywhere = [(i, j) for i in range(rows) for j in range(columns)]
    for candidate_lines in (alone, exposed_lines, [everywhere]):
        shown = {p for line in candidate_lines for p in line if p not in hidden}
        if shown:
            return min(shown, key=cost)
    raise AssertionError("every count is hidden, and a hidden count is still exposed")


def _mask(shape: tuple[int, ...], hidden: dict[Position, Hidden]) -> NDArray[np.bool_]:
    mask = np.zeros(shape, dtype=bool)
    for position in hidden:
        mask[position] = True
    return mask


class _System:
    """What is published of a table, as a linear programme over its hidden counts: each row's
    cells sum to its total, each column's to its total; "<10" is 0–9, "×" at least 10."""

    def __init__(self, known: NDArray[np.int64], hidden: dict[Position, Hidden]) -> None:
        self.order = sorted(hidden)
        self.column_of = {position: k for k, position in enumerate(self.order)}
        rows, columns = known.shape
        lines = [[(i, j) for j in range(columns - 1)] + [(i, columns - 1)] for i in range(rows)]
        lines += [[(i, j) for i in range(rows - 1)] + [(rows - 1, j)] for j in range(columns)]
        # Lines without a hidden count constrain nothing hidden: left out, the programme shrinks.
        lines = [line for line in lines if any(p in self.column_of for p in line)]
        self.equations = np.zeros((len(lines), len(self.order)))
        self.targets = np.zeros(len(lines))
        for e, line in enumerate(lines):
            # The parts of a line minus its total (the line's last position) make nothing.
            *parts, total = line
            for position, sign in [*((p, 1.0) for p in parts), (total, -1.0)]:
                if position in self.column_of:
                    self.equations[e, self.column_of[position]] += sign
                else:
                    self.targets[e] -= sign * known[position]
        self.bounds = [
            (0, SMALL - 1) if hidden[position] is Hidden.SMALL else (SMALL, None)
            for position in self.order
        ]

    def least(self, position: Position) -> int:
        least = _optimum(self._objective(position), self.equations, self.targets, self.bounds)
        assert least is not None  # every count is at least 0
        return round(least)

    def greatest(self, position: Position) -> int | None:
        greatest = _optimum(-self._objective(position), self.equations, self.targets, self.bounds)
        return None if greatest is None else round(-greatest)

    def leaves_open(self, position: Position, *, truth: int) -> bool:
        """Could the count be any of at least MIN_POSSIBLE values? One programme settles it
        when the greatest lies far enough above the true count; else two."""
        greatest = self.greatest(position)
        if greatest is None or greatest - truth + 1 >= MIN_POSSIBLE:
            return True
        return greatest - self.least(position) + 1 >= MIN_POSSIBLE

    def _objective(self, position: Position) -> NDArray[np.float64]:
        objective = np.zeros(len(self.order))
        objective[self.column_of[position]] = 1.0
        return objective


def _ranges(
    known: NDArray[np.int64], hidden: dict[Position, Hidden]
) -> dict[Position, tuple[int, int | None]]:
    """Least and greatest value of each hidden count: ``known`` holds the published counts
    (0 where hidden)."""
    if not hidden:
        return {}
    system = _System(known, hidden)
    return {
        position: (system.least(position), system.greatest(position)) for position in system.order
    }


def _optimum(
    objective: NDArray[np.float64],
    equations: NDArray[np.float64],
    targets: NDArray[np.float64],
    bounds: Sequence[tuple[int, int | None]],
) -> float | None:
    """The least value of the objective; None where there is none (unbounded: a hidden count
    that no shown total limits)."""
    result = linprog(objective, A_eq=equations, b_eq=targets, bounds=bounds, method="highs")
    if result.status == 3:
        return None
    if not result.success:
        raise AssertionError(f"the published table has no solution: {result.message}")
    return float(result.fun)


def _published(grid: NDArray[np.int64], hidden: dict[Position, Hidden]) -> Published:
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
