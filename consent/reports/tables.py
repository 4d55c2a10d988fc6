"""The tables of the consent reports, as shown on their pages and exported: counts of
residents with small ones hidden (``consent.reports.suppression``), and text beside them.

A table whose counts add up (rows and columns of one population, each counted once) is
published with its row and column totals and complementary suppression. A table whose counts do
not add up (the same residents read on several days) has no totals, and each small count is
hidden on its own: with no totals there is nothing to work it out from. A table that shares
counts with others (a statistics run's, the trends, the overview and the terms versions) comes
with its counts already protected together with theirs (``protected``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.utils.translation import gettext as _

from consent.reports.suppression import SMALL, Hidden, Published, Shown, suppress


@dataclass(frozen=True)
class Table:
    """A report table: ``counts[i][j]`` counts residents for row ``i`` and count column ``j``.

    ``notes`` holds text columns shown after the counts (one list per row, the same length as
    ``note_columns``), such as the date old consents lapse: never a count, never hidden.
    """

    name: str
    title: str
    row_heading: str
    rows: Sequence[str]
    columns: Sequence[str]
    counts: Sequence[Sequence[int]]
    totals: bool = True  # publish row and column totals (the counts add up)
    note_columns: Sequence[str] = ()
    notes: Sequence[Sequence[str]] = field(default_factory=tuple)
    # The heading of a last column giving each row's first count as a share of its two
    # counts, shown only where both are shown (``share``'s rule besides).
    row_share: str | None = None
    row_share_skips_last: bool = False
    # The counts as already protected together with other tables (consent.reports.breakdowns),
    # instead of on their own.
    protected: Published | None = None

    @cached_property
    def published(self) -> Published:
        if self.protected is not None:
            return self.protected
        if self.totals and self.rows and self.columns:
            return suppress(self.counts)
        return Published(
            cells=tuple(tuple(hide_small(count) for count in row) for row in self.counts),
            row_totals=(),
            column_totals=(),
            total=0,
        )

    @property
    def width(self) -> int:
        """How many columns the table shows, its row headings included."""
        return 1 + len(self.columns) + int(self.totals) + len(self.note_headings)

    @property
    def note_headings(self) -> list[str]:
        return [*self.note_columns, *([self.row_share] if self.row_share else [])]

    def shown_rows(self) -> list[tuple[str, list[Shown], Shown | None, list[str]]]:
        """(label, shown counts, shown row total or None, notes) per row."""
        published = self.published
        return [
            (
                label,
                list(published.cells[i]),
                published.row_totals[i] if self.totals else None,
                [*(self.notes[i] if self.notes else []), *self._share_note(i)],
            )
            for i, label in enumerate(self.rows)
        ]

    def _share_note(self, row: int) -> list[str]:
        if self.row_share is None:
            return []
        part, rest = self.published.cells[row][:2]
        last = self.row_share_skips_last and row == len(self.rows) - 1
        if last or isinstance(part, Hidden) or isinstance(rest, Hidden):
            return ["—"]
        return [share(part, part + rest) or "—"]

    def shown_totals(self) -> tuple[list[Shown], Shown] | None:
        """The column totals and the grand total, when the table has totals."""
        if not self.totals or not self.rows or not self.columns:
            return None
        return list(self.published.column_totals), self.published.total

    @property
    def hides_anything(self) -> bool:
        grid = [*self.published.cells, self.published.row_totals, self.published.column_totals]
        return any(isinstance(shown, Hidden) for line in grid for shown in line) or isinstance(
            self.published.total, Hidden
        )


def hide_small(count: int) -> Shown:
    """A count on its own, with nothing to work it out from: hidden only if small."""
    return Hidden.SMALL if count < SMALL else count


def share(part: int, whole: int) -> str | None:
    """``part`` as a percentage of ``whole``, or None where it would reveal a small count: the
    part, or the rest of the whole, under ten."""
    if whole <= 0 or part < SMALL or whole - part < SMALL:
        return None
    return f"{100 * part / whole:.1f}%"


def as_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    total_heading = [_("Total")] if table.totals else []
    writer.writerow(
        _safe([table.row_heading, *table.columns, *total_heading, *table.note_headings])
    )
    for label, cells, row_total, notes in table.shown_rows():
        total_cell = [str(row_total)] if row_total is not None else []
        writer.writerow(_safe([label, *map(str, cells), *total_cell, *notes]))
    if (totals := table.shown_totals()) is not None:
        column_totals, grand_total = totals
        writer.writerow([_("Total"), *map(str, column_totals), str(grand_total)])
    return out.getvalue()


def _safe(cells: list[str]) -> list[str]:
    """Cells a spreadsheet would take for a formula (a staff email or an area name starting with
    = + - @, a tab or a carriage return) made plain text with a leading apostrophe (OWASP)."""
    return [f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell for cell in cells]


def as_json(table: Table, **about: Any) -> str:
    def value(shown: Shown) -> int | str:
        return shown.value if isinstance(shown, Hidden) else shown

    document: dict[str, Any] = {
        "table": table.name,
        "title": table.title,
        **about,
        "row_heading": table.row_heading,
        "columns": list(table.columns),
        "note_columns": table.note_headings,
        "rows": [
            {
                "label": label,
                "counts": [value(shown) for shown in cells],
                **({"total": value(row_total)} if row_total is not None else {}),
                **({"notes": notes} if notes else {}),
            }
            for label, cells, row_total, notes in table.shown_rows()
        ],
        "hidden": {
            Hidden.SMALL.value: _("fewer than 10 residents"),
            Hidden.PROTECTING.value: _("hidden so that a smaller count cannot be worked out"),
        },
    }
    if (totals := table.shown_totals()) is not None:
        column_totals, total = totals
        document["column_totals"] = [value(shown) for shown in column_totals]
        document["total"] = value(total)
    return json.dumps(document, ensure_ascii=False, indent=2, default=str)
