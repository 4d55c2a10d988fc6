"""The numbers of the consent reports, counted in the database (no resident attribute is read
here: consents and the ledger only). Counts of residents under 10 are hidden by the pages and
exports through ``consent.reports.suppression``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from consent.models import (
    Channel,
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    ConsentTally,
    ConsentTerms,
    CounterAction,
    CounterDispute,
    DataUseCheck,
    DataUseEvent,
    EventKind,
    LedgerVerification,
    PaperForm,
    PaperFormStatus,
    PlanningStatisticsCount,
    PlanningStatisticsRun,
    Purpose,
    ReportSnapshot,
)
from consent.reports import breakdowns
from consent.reports.breakdowns import AGE_BANDS, UNPLACED
from consent.reports.tallies import week_of
from consent.selectors import active_grants_q, latest_ledger_verification, usable_terms_ids
from portal.models import Area, StaffAuditEntry, User

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
    counted_at: datetime | None = None  # when the counts were taken, if not just now
    # Terms version id -> residents whose consent rests on it: counted with the rest, so that
    # the terms report and the overview show the same moment (their counts are protected
    # together, consent.reports.pages).
    terms: dict[int, int] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        """The counts alone, as a snapshot keeps them."""
        return {
            "registered": self.registered,
            "consenting": self.consenting,
            "per_purpose": {purpose.code: purpose.residents for purpose in self.per_purpose},
            "withdrew_recently": self.withdrew_recently,
            "to_consent_again": self.to_consent_again,
            "at_the_counter": self.at_the_counter,
            "terms": {str(terms): residents for terms, residents in self.terms.items()},
        }


OVERVIEW_SNAPSHOT = "overview"
# A snapshot older than this is not shown: the overview is counted again instead (beat
# refreshes it every 10 minutes, so this happens only when beat is down).
OVERVIEW_MAX_AGE = timedelta(minutes=30)


def overview_snapshot(*, now: datetime | None = None) -> Overview | None:
    """The overview as last counted by beat, with the ledger's status read now; None when there
    is no snapshot young enough."""
    moment = now or timezone.now()
    snapshot = ReportSnapshot.objects.filter(
        name=OVERVIEW_SNAPSHOT, computed_at__gt=moment - OVERVIEW_MAX_AGE
    ).first()
    if snapshot is None or "terms" not in snapshot.data:
        return None  # none, or taken before the terms were counted with the rest
    counts = snapshot.data
    return Overview(
        registered=counts["registered"],
        consenting=counts["consenting"],
        per_purpose=[
            PurposeUptake(
                code=purpose.code,
                name=purpose.name,
                residents=counts["per_purpose"].get(purpose.code, 0),
            )
            for purpose in Purpose.objects.order_by("position")
        ],
        withdrew_recently=counts["withdrew_recently"],
        to_consent_again=counts["to_consent_again"],
        at_the_counter=counts["at_the_counter"],
        ledger=latest_ledger_verification(),
        counted_at=snapshot.computed_at,
        terms={int(terms): residents for terms, residents in counts["terms"].items()},
    )


def overview(*, now: datetime | None = None) -> Overview:
    moment = now or timezone.now()
    usable = usable_terms_ids()
    # Residents only: a member of staff who tried a consent out is not one of the city's.
    states = ConsentState.objects.filter(resident__in=resident_accounts())
    active = states.filter(active_grants_q(now=moment, usable_terms=usable))
    per_purpose = dict(
        active.values_list("purpose__code")
        .annotate(residents=Count("resident_id", distinct=True))
        .order_by()
    )
    return Overview(
        registered=resident_accounts().count(),
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
        to_consent_again=states.filter(status=ConsentStatus.GRANTED)
        .exclude(terms_id__in=usable)
        .values("resident_id")
        .distinct()
        .count(),
        at_the_counter=ConsentEvent.objects.filter(
            channel=Channel.COUNTER, kind__in=[EventKind.GRANT, EventKind.WITHDRAW]
        ).count(),
        ledger=latest_ledger_verification(),
        terms=dict(
            states.filter(status=ConsentStatus.GRANTED)
            .values_list("terms_id")
            .annotate(residents=Count("resident_id", distinct=True))
            .order_by()
        ),
    )


def resident_accounts() -> QuerySet[User]:
    """Active accounts without a staff power (a flag, a role or a permission of their own):
    the people the portal is for."""
    return User.objects.filter(
        is_active=True,
        is_staff=False,
        is_superuser=False,
        groups__isnull=True,
        user_permissions__isnull=True,
    )


# ---------------------------------------------------------------------------------------------
# Trends, from the weekly tallies (consent.reports.tallies)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekOfConsents:
    """One week of one (purpose, category): its ledger events, and the consents active (granted
    and not lapsed or withdrawn) at its end."""

    week: date
    granted: int
    refused: int
    withdrawn: int
    expired: int
    active: int
    # Consents that became active and that stopped being active in the week: the change of
    # ``active``, which decisions such as a grant of new terms over an active consent leave be.
    became_active: int = 0
    stopped_active: int = 0


def first_tally_week(*, purpose_code: str, category_code: str) -> date | None:
    """The first week with any decision on the purpose and category, if any."""
    first: date | None = ConsentTally.objects.filter(
        purpose_code=purpose_code, category_code=category_code
    ).aggregate(first=Min("week"))["first"]
    return first


def weekly_trend(
    *, purpose_code: str, category_code: str, weeks: int, now: datetime | None = None
) -> list[WeekOfConsents]:
    """The last ``weeks`` weeks, the current one included, oldest first: two queries on the
    tallies, however long the ledger."""
    last = week_of(now or timezone.now())
    first = last - timedelta(weeks=weeks - 1)
    tallies = ConsentTally.objects.filter(purpose_code=purpose_code, category_code=category_code)
    before = tallies.filter(week__lt=first).aggregate(
        became=Sum("became_active", default=0), stopped=Sum("stopped_active", default=0)
    )
    active = before["became"] - before["stopped"]
    by_week = {row.week: row for row in tallies.filter(week__gte=first, week__lte=last)}
    trend = []
    for n in range(weeks):
        week = first + timedelta(weeks=n)
        row = by_week.get(week) or ConsentTally(week=week)
        active += row.became_active - row.stopped_active
        trend.append(
            WeekOfConsents(
                week=week,
                granted=row.granted,
                refused=row.refused,
                withdrawn=row.withdrawn,
                expired=row.expired,
                active=active,
                became_active=row.became_active,
                stopped_active=row.stopped_active,
            )
        )
    return trend


# ---------------------------------------------------------------------------------------------
# Terms versions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TermsUptake:
    """One version of a purpose's terms: the residents whose consent rests on it now, and, once
    a later version asked everyone to agree again, when consents to it lapse."""

    terms: ConsentTerms
    usable: bool  # the current version, or replaced by a change that needs no new "yes"
    residents: int
    lapses_on: datetime | None


def terms_uptake(resting: Mapping[int, int]) -> list[TermsUptake]:
    """Every version of every purpose's terms with ``resting`` (``Overview.terms``)."""
    usable = usable_terms_ids()
    all_terms = list(
        ConsentTerms.objects.select_related("purpose").order_by("purpose__position", "-version")
    )
    return [
        TermsUptake(
            terms=terms,
            usable=terms.pk in usable,
            residents=resting.get(terms.pk, 0),
            lapses_on=None if terms.pk in usable else _lapse_of(terms, all_terms),
        )
        for terms in all_terms
    ]


def _lapse_of(terms: ConsentTerms, all_terms: list[ConsentTerms]) -> datetime | None:
    """When consents to replaced terms lapse: the retention period after the first later
    version that asked for a new "yes" (as consent.services.consents_expire decides)."""
    asked_again = [
        later.published_at
        for later in all_terms
        if later.purpose_id == terms.purpose_id
        and later.version > terms.version
        and later.requires_reconsent
    ]
    return min(asked_again) + timedelta(days=terms.retention_days) if asked_again else None


# ---------------------------------------------------------------------------------------------
# Consents recorded at the city counter
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClerkWork:
    """The paper forms one member of staff recorded at the counter."""

    staff: str  # their email, kept when the account is deleted
    grants: int
    withdrawals: int
    first_reference: str
    last_reference: str
    disputed: int


def counter_work() -> list[ClerkWork]:
    used = PaperForm.objects.filter(status=PaperFormStatus.USED)
    return [
        ClerkWork(
            staff=row["used_by_email"],
            grants=row["grants"],
            withdrawals=row["withdrawals"],
            first_reference=row["first"],
            last_reference=row["last"],
            disputed=row["disputed"],
        )
        for row in used.values("used_by_email")
        .annotate(
            grants=Count("pk", filter=Q(action=CounterAction.GRANT)),
            withdrawals=Count("pk", filter=Q(action=CounterAction.WITHDRAW)),
            first=Min("reference"),
            last=Max("reference"),
            disputed=Count("dispute"),
        )
        .order_by("used_by_email")
    ]


def counter_disputes_for_report() -> QuerySet[CounterDispute]:
    """Every dispute, newest first, with the form and who recorded it (never the resident's
    words: the register shows those to the officer who answers)."""
    return CounterDispute.objects.select_related("paper_form").only(
        "opened_at",
        "resolved_at",
        "resolved_by_email",
        "paper_form__reference",
        "paper_form__used_by_email",
        "paper_form__action",
        "paper_form__purpose_code",
    )


# ---------------------------------------------------------------------------------------------
# Data use
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReaderOfPurpose:
    """Who read residents' data for one purpose: per day, how many residents."""

    purpose_code: str
    recipient_code: str
    reader_kind: str
    reader_name: str
    residents_by_day: dict[date, int]


def data_use_by_day(
    *, days: int, today: date | None = None
) -> tuple[list[date], list[ReaderOfPurpose]]:
    """The last ``days`` days (today included) of the data-use log, oldest first: each ended
    day from its snapshot (``consent.reports.services.data_use_days_roll_up``), the others
    counted now."""
    period = last_days(days, today=today)
    kept = data_use_day_snapshots(period)
    readers: dict[tuple[str, str, str, str], dict[date, int]] = {}
    for day in period:
        rows = kept.get(day)
        for purpose, recipient, kind, name, residents in (
            data_use_of_day(day) if rows is None else rows
        ):
            readers.setdefault((purpose, recipient, kind, name), {})[day] = residents
    return period, [
        ReaderOfPurpose(
            purpose_code=purpose,
            recipient_code=recipient,
            reader_kind=kind,
            reader_name=name,
            residents_by_day=by_day,
        )
        for (purpose, recipient, kind, name), by_day in sorted(readers.items())
    ]


def last_days(days: int, *, today: date | None = None) -> list[date]:
    """The last ``days`` days, today included, oldest first: the period of the data-use report,
    its checks and its roll-up."""
    last = today or timezone.localdate()
    return [last - timedelta(days=n) for n in range(days - 1, -1, -1)]


def data_use_of_day(day: date) -> list[tuple[str, str, str, str, int]]:
    """(purpose, recipient, reader kind, reader name, residents) of one day of the log: a row
    per resident, purpose, recipient, reader and staff account, so residents are counted
    distinct (two staff members reading under one reader name read some residents twice)."""
    return [
        (purpose, recipient, kind, name, residents)
        for purpose, recipient, kind, name, residents in DataUseEvent.objects.filter(day=day)
        .values_list("purpose_code", "recipient_code", "reader_kind", "reader_name")
        .annotate(residents=Count("resident_id", distinct=True))
        .order_by()
    ]


def data_use_day_name(day: date) -> str:
    return f"data-use/{day.isoformat()}"


def data_use_day_snapshots(days: list[date]) -> dict[date, list[tuple[str, str, str, str, int]]]:
    """The snapshots of these days taken after the day ended (a day's log is then final)."""
    names = {data_use_day_name(day): day for day in days}
    kept = {}
    for snapshot in ReportSnapshot.objects.filter(name__in=names):
        day = names[snapshot.name]
        if timezone.localtime(snapshot.computed_at).date() > day:
            kept[day] = [tuple(row) for row in snapshot.data]
    return kept


def recent_report_accesses(*, limit: int = 20) -> QuerySet[StaffAuditEntry]:
    """The latest viewings and exports of the reports, for administrators."""
    return StaffAuditEntry.objects.filter(action__startswith="consent.reports.").order_by(
        "-occurred_at", "-id"
    )[:limit]


# ---------------------------------------------------------------------------------------------
# Breakdowns by area and age band, from the latest anonymous statistics run
# (consent.reports.statistics): counts only, made through the consent gate.
# ---------------------------------------------------------------------------------------------


def latest_planning_statistics() -> PlanningStatisticsRun | None:
    """The latest run whose tables have been protected (consent.reports.breakdowns)."""
    return (
        PlanningStatisticsRun.objects.filter(finished_at__isnull=False, hidden__isnull=False)
        .order_by("-finished_at")
        .first()
    )


@dataclass(frozen=True)
class Group:
    """One row of a breakdown: residents known to live there (or to be in that band), and how
    many of them have the consent counted."""

    label: str
    known: int
    consenting: int
    key: str = UNPLACED  # the area's id or the age band (consent.reports.breakdowns)


@dataclass(frozen=True)
class Breakdown:
    """The rows of a breakdown, then what no attribute places: residents who did not share the
    attribute for statistics are counted only here, as the totals less the rows."""

    run: PlanningStatisticsRun
    groups: list[Group]
    registered: int
    consenting: int

    @property
    def unplaced(self) -> Group:
        known = sum(group.known for group in self.groups)
        consenting = sum(group.consenting for group in self.groups)
        return Group("", self.registered - known, self.consenting - consenting, UNPLACED)


def breakdown_by_age(
    run: PlanningStatisticsRun, *, purpose_code: str, category_code: str
) -> Breakdown:
    known, consenting = _grouped_counts(run, purpose_code, category_code, key="age_band")
    present = {band for band in known if band}
    bands = sorted(present | set(AGE_BANDS), key=lambda band: int(band.split("-")[0]))
    return Breakdown(
        run=run,
        groups=[Group(band, known[band], consenting.get(band, 0), band) for band in bands],
        registered=run.registered,
        consenting=run.consenting.get(breakdowns.pair_of(purpose_code, category_code), 0),
    )


def breakdown_by_area(
    run: PlanningStatisticsRun, *, purpose_code: str, category_code: str, kind: str
) -> Breakdown:
    """Rows: every area of ``kind`` (a district takes in its neighbourhoods), grouped as the
    run's protection grouped them (``breakdowns.grouped``); a home in an area above that level
    counts where no attribute places it."""
    known, consenting = _grouped_counts(run, purpose_code, category_code, key="area_id")
    areas = list(Area.objects.only("id", "code", "parent_id", "kind", "name_ja", "name_en"))
    tree = breakdowns.Areas(
        kind={area.pk: area.kind for area in areas},
        parent={area.pk: area.parent_id for area in areas},
    )
    grouping = breakdowns.area_grouping(kind)

    def in_groups(cells: Counter[Any]) -> dict[str, int]:
        return breakdowns.grouped({(area, ""): n for area, n in cells.items()}, tree, grouping, 0)

    known_in, consenting_in = in_groups(known), in_groups(consenting)
    return Breakdown(
        run=run,
        groups=[
            Group(area.name, known_in[str(area.pk)], consenting_in[str(area.pk)], str(area.pk))
            # By code: the national area codes put neighbours together, in any language.
            for area in sorted(areas, key=lambda area: (area.code, area.pk))
            if area.kind == kind
        ],
        registered=run.registered,
        consenting=run.consenting.get(breakdowns.pair_of(purpose_code, category_code), 0),
    )


def _grouped_counts(
    run: PlanningStatisticsRun, purpose_code: str, category_code: str, *, key: str
) -> tuple[Counter[Any], Counter[Any]]:
    """Residents read per ``key`` value, and those of them with the consent."""
    known: Counter[Any] = Counter()
    consenting: Counter[Any] = Counter()
    rows = (
        PlanningStatisticsCount.objects.filter(run=run)
        .filter(Q(purpose_code="") | Q(purpose_code=purpose_code, category_code=category_code))
        .values_list(key, "purpose_code")
        .annotate(residents=Sum("residents"))
        .order_by()
    )
    for value, purpose, residents in rows:
        (consenting if purpose else known)[value] += residents
    return known, consenting


def data_use_checks(*, days: list[date]) -> list[tuple[date, DataUseCheck | None]]:
    """Each day with the outcome of its latest check against the ledger, if any."""
    checks = {check.day: check for check in DataUseCheck.objects.filter(day__in=days)}
    return [(day, checks.get(day)) for day in days]
