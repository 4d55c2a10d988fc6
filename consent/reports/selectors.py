"""The numbers of the consent reports, counted in the database (no resident attribute is read
here: consents and the ledger only). Counts of residents under 10 are hidden by the pages and
exports through ``consent.reports.suppression``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, QuerySet
from django.utils import timezone

from consent.models import (
    Channel,
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    EventKind,
    LedgerVerification,
    Purpose,
)
from consent.selectors import active_grants_q, latest_ledger_verification, usable_terms_ids
from portal.models import User

# How far back "recent withdrawals" look.
RECENT_DAYS = 30


@dataclass(frozen=True)
class PurposeUptake:
    """How many residents share something for one purpose now."""

    code: str
    name: str
    residents: int


@dataclass(frozen=True)
class Overview:
    """The overview's tiles, as counts of residents (and of consents recorded at the counter)."""

    registered: int  # active accounts of residents (staff accounts are not residents)
    consenting: int  # residents who share at least one category for some purpose now
    per_purpose: list[PurposeUptake]
    withdrew_recently: int  # residents who withdrew something in the last RECENT_DAYS days
    to_consent_again: int  # residents whose consent waits on terms that changed materially
    at_the_counter: int  # consents given or withdrawn on a paper form at the city counter
    ledger: LedgerVerification | None  # the latest verification run


def overview(*, now: datetime | None = None) -> Overview:
    moment = now or timezone.now()
    usable = usable_terms_ids()
    active = ConsentState.objects.filter(active_grants_q(now=moment, usable_terms=usable))
    per_purpose = dict(
        active.values_list("purpose__code")
        .annotate(residents=Count("resident_id", distinct=True))
        .order_by()
    )
    return Overview(
        registered=_residents().count(),
        consenting=active.values("resident_id").distinct().count(),
        per_purpose=[
            PurposeUptake(
                code=purpose.code, name=purpose.name, residents=per_purpose.get(purpose.code, 0)
            )
            for purpose in Purpose.objects.order_by("position")
        ],
        withdrew_recently=ConsentEvent.objects.filter(
            kind=EventKind.WITHDRAW, occurred_at__gte=moment - timedelta(days=RECENT_DAYS)
        )
        .values("subject_pseudonym")
        .distinct()
        .count(),
        to_consent_again=ConsentState.objects.filter(status=ConsentStatus.GRANTED)
        .exclude(terms_id__in=usable)
        .values("resident_id")
        .distinct()
        .count(),
        at_the_counter=ConsentEvent.objects.filter(
            channel=Channel.COUNTER, kind__in=[EventKind.GRANT, EventKind.WITHDRAW]
        ).count(),
        ledger=latest_ledger_verification(),
    )


def _residents() -> QuerySet[User]:
    """Active accounts without a staff power (a flag, a role or a permission of their own):
    the people the portal is for."""
    return User.objects.filter(
        is_active=True,
        is_staff=False,
        is_superuser=False,
        groups__isnull=True,
        user_permissions__isnull=True,
    )
