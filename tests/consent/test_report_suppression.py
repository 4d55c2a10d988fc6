"""Small-count suppression: no count under ten is shown, and none can be worked out from what
is shown (checked with an exact integer programme, written apart from the one that hides)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from consent.reports.suppression import (
    MIN_POSSIBLE,
    SMALL,
    Equation,
    Hidden,
    Linked,
    Published,
    possible_ranges,
    suppress,
    suppress_linked_or_all,
)

# A greatest value this high only meets integer_range's ceiling: the count has no greatest.
ceiling_reached = 500_000


def true_grid(cells: list[list[int]]) -> list[list[int]]:
    rows = [[*row, sum(row)] for row in cells]
    return [*rows, [sum(column) for column in zip(*rows, strict=True)]]


def integer_range(published: Published, position: tuple[int, int]) -> tuple[int, int]:
    """The least and greatest whole value the count at ``position`` can take, given the
    published table: every count of the grid an integer unknown, the shown ones fixed."""
    grid = published.grid()
    rows, columns = len(grid), len(grid[0])
    index = {(i, j): i * columns + j for i in range(rows) for j in range(columns)}
    lower, upper = np.zeros(len(index)), np.zeros(len(index))
    # Far above any count of the table: "no greatest" becomes this.
    ceiling = 1_000_000
    for (i, j), k in index.items():
        value = grid[i][j]
        if value is Hidden.SMALL:
            lower[k], upper[k] = 0, SMALL - 1
        elif value is Hidden.PROTECTING:
            lower[k], upper[k] = SMALL, ceiling
        else:
            lower[k] = upper[k] = value
    sums = []
    for i in range(rows):  # each row's cells make its total
        line = np.zeros(len(index))
        for j in range(columns - 1):
            line[index[i, j]] = 1
        line[index[i, columns - 1]] = -1
        sums.append(line)
    for j in range(columns):  # each column's cells make its total
        line = np.zeros(len(index))
        for i in range(rows - 1):
            line[index[i, j]] = 1
        line[index[rows - 1, j]] = -1
        sums.append(line)
    constraint = LinearConstraint(np.array(sums), 0, 0)
    found = []
    for sign in (1, -1):
        objective = np.zeros(len(index))
        objective[index[position]] = sign
        result = milp(
            objective,
            constraints=constraint,
            integrality=np.ones(len(index)),
            bounds=Bounds(lower, upper),
        )
        assert result.success, result.message
        found.append(round(sign * result.fun))
    return found[0], found[1]


tables = st.integers(1, 4).flatmap(
    lambda rows: st.lists(
        st.lists(st.one_of(st.integers(0, 12), st.integers(10, 80)), min_size=1, max_size=4).map(
            tuple
        ),
        min_size=rows,
        max_size=rows,
    ).filter(lambda table: len({len(row) for row in table}) == 1)
)


@settings(max_examples=150, deadline=None)
@given(cells=tables.map(lambda table: [list(row) for row in table]))
def test_no_count_under_ten_is_shown_or_can_be_worked_out(cells: list[list[int]]) -> None:
    published = suppress(cells)

    for truth_row, shown_row in zip(true_grid(cells), published.grid(), strict=True):
        for truth, shown in zip(truth_row, shown_row, strict=True):
            if truth < SMALL:
                assert shown is Hidden.SMALL
            elif shown is Hidden.SMALL:
                pytest.fail("a count of ten or more marked as small")
            elif not isinstance(shown, Hidden):
                assert shown == truth
    truths = true_grid(cells)
    for (i, j), value in np.ndenumerate(np.array(published.grid(), dtype=object)):
        if isinstance(value, Hidden):
            least, greatest = integer_range(published, (i, j))
            assert least <= truths[i][j] <= greatest
            assert greatest - least + 1 >= MIN_POSSIBLE, ((i, j), least, greatest)
            # The report's own reckoning agrees (None: no greatest, where only the ceiling is).
            assert possible_ranges(published)[i, j] == (
                (least, None) if greatest > ceiling_reached else (least, greatest)
            )


def test_a_table_without_small_counts_is_shown_whole() -> None:
    published = suppress([[10, 20], [30, 40]])

    assert published.cells == ((10, 20), (30, 40))
    assert published.row_totals == (30, 70)
    assert published.column_totals == (40, 60)
    assert published.total == 100


def test_two_small_counts_are_protected_by_the_two_cells_closing_their_cycle() -> None:
    published = suppress([[3, 25, 40], [12, 30, 8], [50, 44, 61]])

    assert [[str(value) for value in row] for row in published.grid()] == [
        ["<10", "25", "×", "68"],
        ["×", "30", "<10", "50"],
        ["50", "44", "61", "155"],
        ["65", "99", "109", "273"],
    ]


def test_the_ranges_an_attacker_can_work_out_are_what_the_report_allows() -> None:
    published = suppress([[3, 25, 40], [12, 30, 8], [50, 44, 61]])

    assert possible_ranges(published) == {
        (0, 0): (0, 4),
        (0, 2): (39, 43),
        (1, 0): (11, 15),
        (1, 2): (5, 9),
    }


def test_a_small_table_hides_its_totals_too() -> None:
    published = suppress([[4]])

    assert published.grid() == [[Hidden.SMALL, Hidden.SMALL], [Hidden.SMALL, Hidden.SMALL]]


def test_a_row_of_one_small_count_and_large_ones_hides_a_partner() -> None:
    published = suppress([[2, 30, 45]])

    assert published.cells[0][0] is Hidden.SMALL
    assert published.cells[0][1] is Hidden.PROTECTING
    assert published.cells[0][2] == 45


def test_hidden_counts_read_as_the_report_shows_them() -> None:
    assert (str(Hidden.SMALL), str(Hidden.PROTECTING)) == ("<10", "×")


@pytest.mark.parametrize("cells", [[], [[]], [[1, -1]]])
def test_an_empty_table_or_a_negative_count_is_refused(cells) -> None:
    with pytest.raises(ValueError):
        suppress(cells)


def test_counts_that_their_equations_contradict_are_all_hidden(caplog) -> None:
    # "a at most c" taken as known, though a is 12 and c, hidden, 3: nothing can be reckoned,
    # so nothing is shown.
    linked = Linked(
        counts={"a": 12, "b": 11, "c": 3},
        equations=[Equation.at_most("a", ["c"], "slack")],
        latent={"slack": (0, None)},
    )

    hidden = suppress_linked_or_all(linked)

    assert hidden == {"a": Hidden.PROTECTING, "b": Hidden.PROTECTING, "c": Hidden.SMALL}
    assert "Hiding every count" in caplog.text
