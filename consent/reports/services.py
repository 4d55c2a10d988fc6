"""What the consent reports write: a line in the staff audit log for every report viewed or
exported, so administrators can see who looked at what, and when."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.db import transaction
from django.utils import timezone

from consent.models import ReportSnapshot
from consent.reports import selectors
from portal.infra.task_outbox import enqueue_on_commit
from portal.models import StaffAuditEntry, User

VIEWED = "consent.reports.view"
CHECK_REQUESTED = "consent.reports.check_data_use"
EXPORTED = "consent.reports.export"


def report_access_record(
    *,
    staff: User,
    report: str,
    params: Mapping[str, str],
    export_format: str | None = None,
    ip_address: str | None = None,
) -> None:
    """Log one viewing (``export_format`` None) or export of ``report`` with the parameters
    that chose what it showed."""
    detail: dict[str, object] = {"parameters": {key: params[key] for key in sorted(params)}}
    if export_format is not None:
        detail["format"] = export_format
    StaffAuditEntry.objects.record(
        actor=staff,
        action=EXPORTED if export_format is not None else VIEWED,
        reference=report,
        detail=detail,
        ip_address=ip_address,
    )


@transaction.atomic
def data_use_check_request(*, staff: User, days: int, ip_address: str | None = None) -> None:
    """Have the worker check the data-use log of the last ``days`` days against the ledger now
    (the check takes seconds per day for a city: not in a request)."""
    # consent.tasks runs this module's roll-ups: imported here, not at the top, to avoid a cycle.
    from consent.tasks import check_data_use

    StaffAuditEntry.objects.record(
        actor=staff,
        action=CHECK_REQUESTED,
        reference="data-use",
        detail={"days": days},
        ip_address=ip_address,
    )
    enqueue_on_commit(check_data_use, days=days)


def overview_snapshot_refresh() -> None:
    """Count the overview and keep the counts (beat, every 10 minutes): counting a city's
    consent states takes seconds, a page must take less."""
    ReportSnapshot.objects.update_or_create(
        name=selectors.OVERVIEW_SNAPSHOT,
        defaults={"computed_at": timezone.now(), "data": selectors.overview().counts()},
    )


def data_use_days_roll_up(*, today: date | None = None, days: int = 31) -> int:
    """Keep the counts of each ended day of the last ``days`` days not kept yet (nightly);
    returns how many days were counted."""
    ended = selectors.last_days(days, today=today)[:-1]
    kept = selectors.data_use_day_snapshots(ended)
    counted = 0
    for day in ended:
        if day in kept:
            continue
        ReportSnapshot.objects.update_or_create(
            name=selectors.data_use_day_name(day),
            defaults={
                "computed_at": timezone.now(),
                "data": [list(row) for row in selectors.data_use_of_day(day)],
            },
        )
        counted += 1
    return counted
