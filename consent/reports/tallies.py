"""Weekly tallies of the consent ledger: the summary table behind the reports' trends.

Counting a million ledger events (and their categories) per page would take seconds, so each
event is counted once, when it is appended: ``tally_event`` runs in the transaction that appends
it, under the ledger head's lock, and adds one to its week's row for each of its categories.
Whether a consent *became* or *stopped being* active depends on where it stood before, which the
caller knows from the consent state it is about to change.

The table is derived data, so it is checked like the consent states: ``tallies_problem`` replays
the ledger, resident by resident in chain order, and compares; every verification run does it
(``consent.services.ledger_verify``) and ``rebuild_tallies`` writes the replay over the table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from uuid import UUID

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from consent.models import (
    STATUS_AFTER_EVENT,
    ConsentEvent,
    ConsentStatus,
    ConsentTally,
    EventKind,
    LedgerHead,
)

# The tally column each kind of event counts in.
KIND_COLUMN: dict[str, str] = {
    EventKind.GRANT: "granted",
    EventKind.REFUSE: "refused",
    EventKind.WITHDRAW: "withdrawn",
    EventKind.EXPIRE: "expired",
}
COLUMNS = (*KIND_COLUMN.values(), "became_active", "stopped_active")

TallyKey = tuple[date, str, str]  # (week, purpose code, category code)
# What of each event the replay reads, in this order.
EVENT_FIELDS = ("subject_pseudonym", "kind", "purpose_code", "category_codes", "occurred_at")
EventRow = tuple[UUID, str, str, list[str], datetime]


def week_of(moment: datetime) -> date:
    """The Monday starting the week of ``moment``, in the city's time zone."""
    day = timezone.localtime(moment).date()
    return day - timedelta(days=day.weekday())


def changes_of(kind: str, previous: str | None) -> dict[str, int]:
    """What one event adds to its week's row for one category that stood at ``previous``
    (None: the resident had never decided on it)."""
    was_active = previous == ConsentStatus.GRANTED
    is_active = kind == EventKind.GRANT
    changes = {KIND_COLUMN[kind]: 1}
    if is_active and not was_active:
        changes["became_active"] = 1
    if was_active and not is_active:
        changes["stopped_active"] = 1
    return changes


def tally_event(
    *, kind: str, purpose_code: str, occurred_at: datetime, before: Mapping[str, str | None]
) -> None:
    """Count one appended event; ``before`` maps each of its categories to its status before
    the event. Call in the transaction that appended it."""
    week = week_of(occurred_at)
    for category, previous in before.items():
        _add((week, purpose_code, category), changes_of(kind, previous))


def _add(key: TallyKey, changes: Mapping[str, int]) -> None:
    week, purpose_code, category_code = key
    row = ConsentTally.objects.filter(
        week=week, purpose_code=purpose_code, category_code=category_code
    )
    if not row.update(**{column: F(column) + n for column, n in changes.items()}):
        # No race: appends are serialised by the ledger head's lock, held until commit.
        ConsentTally.objects.create(
            week=week, purpose_code=purpose_code, category_code=category_code, **changes
        )


def replayed_tallies() -> dict[TallyKey, Counter[str]]:
    """The tallies the whole ledger gives."""
    return tallies_from(
        ConsentEvent.objects.order_by("subject_pseudonym", "id")
        .values_list(*EVENT_FIELDS)
        .iterator(chunk_size=5000)
    )


def tallies_from(events: Iterable[EventRow]) -> dict[TallyKey, Counter[str]]:
    """The tallies of these events, given resident by resident, each resident's in chain order
    (a pure function: migration 0011 builds the first tallies with it)."""
    tallies: dict[TallyKey, Counter[str]] = {}
    current: UUID | None = None
    status: dict[tuple[str, str], str] = {}
    weeks: dict[date, date] = {}
    for pseudonym, kind, purpose_code, category_codes, occurred_at in events:
        if pseudonym != current:
            current, status = pseudonym, {}
        # week_of, with each day's Monday remembered: a million events fall on a few hundred days.
        day = timezone.localtime(occurred_at).date()
        week = weeks.setdefault(day, day - timedelta(days=day.weekday()))
        for category in category_codes:
            changes = changes_of(kind, status.get((purpose_code, category)))
            tallies.setdefault((week, purpose_code, category), Counter()).update(changes)
            status[(purpose_code, category)] = STATUS_AFTER_EVENT[kind]
    return tallies


def stored_tallies() -> dict[TallyKey, Counter[str]]:
    return {
        (row["week"], row["purpose_code"], row["category_code"]): Counter(
            {column: row[column] for column in COLUMNS if row[column]}
        )
        for row in ConsentTally.objects.values("week", "purpose_code", "category_code", *COLUMNS)
    }


def tallies_problem() -> str | None:
    """The first week whose stored tally differs from the ledger's replay; None if all agree.

    Both are read in one snapshot (PostgreSQL: REPEATABLE READ), so an event appended between
    the two reads cannot look like a difference."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        stored, replayed = stored_tallies(), replayed_tallies()
    for key in sorted(stored.keys() | replayed.keys()):
        if stored.get(key, Counter()) != replayed.get(key, Counter()):
            week, purpose_code, category_code = key
            return (
                f"weekly tally of {purpose_code}/{category_code} for the week of {week} is "
                f"{dict(stored.get(key, {}))}, the ledger gives {dict(replayed.get(key, {}))}"
            )
    return None


@transaction.atomic
def rebuild_tallies() -> int:
    """Replace the tallies by the ledger's replay; returns how many rows were written. Appends
    wait meanwhile (the ledger head is locked), so none is counted twice or missed."""
    LedgerHead.objects.select_for_update().filter(singleton=1).first()
    ConsentTally.objects.all().delete()
    rows = [
        ConsentTally(week=week, purpose_code=purpose, category_code=category, **changes)
        for (week, purpose, category), changes in replayed_tallies().items()
    ]
    ConsentTally.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
