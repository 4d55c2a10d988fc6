"""What the consent reports write: a line in the staff audit log for every report viewed or
exported, so administrators can see who looked at what, and when."""

from __future__ import annotations

from collections.abc import Mapping

from portal.models import StaffAuditEntry, User

VIEWED = "consent.reports.view"
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
