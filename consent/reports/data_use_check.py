"""The check, shown on the data-use report, that no logged read happened outside an active
consent: it must find none.

The data-use log keeps, per resident, purpose, recipient, reader and day, the categories read
and the moments of the first and the last read (the reads between are counted, not timed). For
each such row and category, both moments are checked against the consent ledger, replayed for
that resident: the resident's last decision on (purpose, category) at that moment must be a
grant, whose terms name the recipient, had not lapsed (their validity), and had not been
replaced by a version asking residents to agree again — what the consent gate itself demands
(``consent.selectors.active_grants_q``). The ledger, not the consent states, is the witness:
the states say only where each consent stands now.

A read is taken in a snapshot of the database slightly before it is logged, so a withdrawal
committed in between would look like a read after it: a moment is also covered when the consent
held ``SNAPSHOT_SLACK`` before it. A real read outside consent is found unless it happened within
that many seconds of the consent ending.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from django.utils import timezone

from consent.catalogue import categories_in
from consent.models import ConsentEvent, ConsentTerms, DataUseCheck, DataUseEvent, EventKind
from consent.reports.selectors import last_days

SNAPSHOT_SLACK = timedelta(seconds=5)
# Residents whose rows and ledger are read at a time.
BATCH = 2000


@dataclass(frozen=True)
class _Decision:
    at: datetime
    kind: str
    terms_id: int
    recipients: frozenset[str]


@dataclass(frozen=True)
class _Terms:
    purpose_id: int
    version: int
    valid_days: int | None


@dataclass
class _Outcome:
    rows: int = 0
    moments: int = 0
    outside: int = 0
    problems: list[str] = field(default_factory=list)


def data_use_check(*, day: date) -> DataUseCheck:
    """Check every row of ``day``'s log and record the outcome (a day checked again replaces
    its earlier outcome: rows of today grow until midnight)."""
    terms = {
        t.pk: _Terms(t.purpose_id, t.version, t.valid_days)
        for t in ConsentTerms.objects.only("purpose_id", "version", "valid_days")
    }
    asked_again = _reconsent_publications()
    outcome = _Outcome()
    for rows in _batches_of_rows(day):
        ledger = _decisions_of({pseudonym for pseudonym, *_rest in rows})
        for row in rows:
            _check_row(row, ledger, terms, asked_again, outcome)
    check, _created = DataUseCheck.objects.update_or_create(
        day=day,
        defaults={
            "checked_at": timezone.now(),
            "rows_checked": outcome.rows,
            "moments_checked": outcome.moments,
            "outside_consent": outcome.outside,
            "problems": "\n".join(outcome.problems[:20]),
        },
    )
    return check


_Row = tuple[UUID, str, str, str, str, int, datetime, datetime]


def _batches_of_rows(day: date) -> Iterator[list[_Row]]:
    last = 0
    while True:
        ids = list(
            DataUseEvent.objects.filter(day=day, resident_id__gt=last)
            .order_by("resident_id")
            .values_list("resident_id", flat=True)
            .distinct()[:BATCH]
        )
        if not ids:
            return
        yield list(
            DataUseEvent.objects.filter(day=day, resident_id__in=ids).values_list(
                "resident__pseudonym",
                "purpose_code",
                "recipient_code",
                "reader_kind",
                "reader_name",
                "category_mask",
                "first_at",
                "last_at",
            )
        )
        last = ids[-1]


def _decisions_of(pseudonyms: Iterable[UUID]) -> dict[tuple[UUID, str, str], list[_Decision]]:
    """Each resident's decisions per (purpose, category), oldest first."""
    ledger: dict[tuple[UUID, str, str], list[_Decision]] = {}
    events = (
        ConsentEvent.objects.filter(subject_pseudonym__in=list(pseudonyms))
        .order_by("id")
        .values_list(
            "subject_pseudonym",
            "purpose_code",
            "category_codes",
            "kind",
            "terms_id",
            "recipient_codes",
            "occurred_at",
        )
    )
    for pseudonym, purpose, categories, kind, terms_id, recipients, at in events:
        decision = _Decision(at, kind, terms_id, frozenset(recipients))
        for category in categories:
            ledger.setdefault((pseudonym, purpose, category), []).append(decision)
    return ledger


def _reconsent_publications() -> dict[int, list[tuple[int, datetime]]]:
    """Per purpose, (version, published at) of the versions that asked residents to agree
    again: from then on, consents to earlier versions no longer count."""
    found: dict[int, list[tuple[int, datetime]]] = {}
    for purpose_id, version, at in (
        ConsentTerms.objects.filter(requires_reconsent=True)
        .order_by("purpose_id", "version")
        .values_list("purpose_id", "version", "published_at")
    ):
        found.setdefault(purpose_id, []).append((version, at))
    return found


def _check_row(
    row: _Row,
    ledger: dict[tuple[UUID, str, str], list[_Decision]],
    terms: dict[int, _Terms],
    asked_again: dict[int, list[tuple[int, datetime]]],
    outcome: _Outcome,
) -> None:
    pseudonym, purpose, recipient, reader_kind, reader_name, mask, first_at, last_at = row
    outcome.rows += 1
    moments = {first_at, last_at}
    for category in sorted(categories_in(mask)):
        decisions = ledger.get((pseudonym, purpose, category), [])
        for moment in sorted(moments):
            outcome.moments += 1
            if not any(
                _covered(decisions, at, recipient, terms, asked_again)
                for at in (moment, moment - SNAPSHOT_SLACK)
            ):
                outcome.outside += 1
                # Never the resident: the report is for officers; the log itself names them
                # to whoever investigates, by the time and reader given here.
                outcome.problems.append(
                    f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S} {purpose}/{category} for "
                    f"{recipient} by {reader_kind} “{reader_name}”"
                )


def _covered(
    decisions: list[_Decision],
    moment: datetime,
    recipient: str,
    terms: dict[int, _Terms],
    asked_again: dict[int, list[tuple[int, datetime]]],
) -> bool:
    """Did the last decision at ``moment`` let the purpose read the category then?"""
    index = bisect_right(decisions, moment, key=lambda decision: decision.at)
    if index == 0:
        return False
    decision = decisions[index - 1]
    if decision.kind != EventKind.GRANT or recipient not in decision.recipients:
        return False
    granted = terms[decision.terms_id]
    if granted.valid_days and decision.at + timedelta(days=granted.valid_days) <= moment:
        return False
    return not any(
        version > granted.version and published_at <= moment
        for version, published_at in asked_again.get(granted.purpose_id, ())
    )


def days_to_check(*, today: date, days: int) -> list[date]:
    """The days of a period of ``days`` days ending today whose outcome is missing or was
    recorded before the day ended (today's rows still grow, so today is always among them)."""
    period = last_days(days, today=today)
    checked_after_the_day = {
        check.day
        for check in DataUseCheck.objects.filter(day__in=period)
        if timezone.localtime(check.checked_at).date() > check.day
    }
    return [day for day in period if day not in checked_after_the_day]
