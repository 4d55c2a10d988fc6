"""The consent reports' tables, built from the selectors' counts: what each page shows and what
``export.csv`` / ``export.json`` give for its ``table`` parameter (the same table, hidden counts
and all)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent.catalogue import Category, PurposeCode
from consent.models import DataCategory, PlanningStatisticsRun, Purpose, ReaderKind
from consent.reports import selectors
from consent.reports.charts import Chart, line_chart
from consent.reports.suppression import Hidden
from consent.reports.tables import Table, share
from portal.models import Area


class ReportError(ValueError):
    """A report asked for with parameters that name nothing (shown to the officer as is)."""


# ---------------------------------------------------------------------------------------------
# Overview
# ---------------------------------------------------------------------------------------------


def overview_table(report: selectors.Overview) -> Table:
    """The overview's counts, each on its own (they do not add up), with the share of the
    registered residents where showing it reveals no small count."""
    measures = [
        (_("Registered residents"), report.registered),
        (_("Residents sharing something for at least one purpose"), report.consenting),
        *(
            (_("Sharing for: %(purpose)s") % {"purpose": purpose.name}, purpose.residents)
            for purpose in report.per_purpose
        ),
        (_("Residents who withdrew a consent in the last 30 days"), report.withdrew_recently),
        (_("Residents asked to agree again after a change of terms"), report.to_consent_again),
        (_("Consents given or withdrawn at the city counter"), report.at_the_counter),
    ]
    return Table(
        name="overview",
        title=_("Overview"),
        row_heading=_("Measure"),
        rows=[label for label, _count in measures],
        columns=[_("Count")],
        counts=[[count] for _label, count in measures],
        totals=False,
        note_columns=[_("Share of registered residents")],
        notes=[[share(count, report.registered) or "—"] for _label, count in measures],
    )


# ---------------------------------------------------------------------------------------------
# Trends
# ---------------------------------------------------------------------------------------------

WEEKS_CHOICES = [
    (13, gettext_lazy("13 weeks")),
    (26, gettext_lazy("26 weeks")),
    (52, gettext_lazy("52 weeks")),
]


class TrendForm(forms.Form):
    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"))
    category = forms.ChoiceField(label=gettext_lazy("Data category"))
    weeks = forms.TypedChoiceField(
        label=gettext_lazy("Period"), choices=WEEKS_CHOICES, coerce=int, initial=26
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        purposes, categories = self.fields["purpose"], self.fields["category"]
        assert isinstance(purposes, forms.ChoiceField) and isinstance(categories, forms.ChoiceField)
        purposes.choices = [(p.code, p.name) for p in Purpose.objects.all()]
        categories.choices = [(c.code, c.name) for c in DataCategory.objects.all()]


@dataclass(frozen=True)
class Trend:
    purpose: str
    category: str
    weeks: list[selectors.WeekOfConsents]
    events: Table
    active: Table
    chart: Chart


def trend(params: Mapping[str, str]) -> Trend:
    form = TrendForm(_with_defaults(params, TrendForm))
    if not form.is_valid():
        raise ReportError(_errors(form))
    purpose = Purpose.objects.get(code=form.cleaned_data["purpose"])
    category = DataCategory.objects.get(code=form.cleaned_data["category"])
    weeks = selectors.weekly_trend(
        purpose_code=purpose.code, category_code=category.code, weeks=form.cleaned_data["weeks"]
    )
    labels = [_week_label(week.week) for week in weeks]
    subject = f"{purpose.name} / {category.name}"
    events = Table(
        name="trend-events",
        title=_("Consent decisions per week: %(subject)s") % {"subject": subject},
        row_heading=_("Week starting"),
        rows=labels,
        columns=[_("Grants"), _("Refusals"), _("Withdrawals"), _("Expiries")],
        counts=[[w.granted, w.refused, w.withdrawn, w.expired] for w in weeks],
    )
    active = Table(
        name="trend-active",
        title=_("Active consents at the end of each week: %(subject)s") % {"subject": subject},
        row_heading=_("Week starting"),
        rows=labels,
        columns=[_("Active consents")],
        counts=[[w.active] for w in weeks],
        totals=False,
    )
    return Trend(
        purpose=purpose.name,
        category=category.name,
        weeks=weeks,
        events=events,
        active=active,
        chart=line_chart(
            [_short_week(week.week) for week in weeks],
            [
                (_("Active consents"), "line-active", _visible(active, 0)),
                (_("Grants"), "line-granted", _visible(events, 0)),
                (_("Withdrawals"), "line-withdrawn", _visible(events, 2)),
            ],
        ),
    )


def _visible(table: Table, column: int) -> list[int | None]:
    """One column of a published table, hidden counts as None (gaps in the chart)."""
    shown = [row[column] for row in table.published.cells]
    return [None if isinstance(count, Hidden) else count for count in shown]


def _week_label(week: date) -> str:
    return formats.date_format(week, "Y-m-d")


def _short_week(week: date) -> str:
    return formats.date_format(week, "n/j")


# ---------------------------------------------------------------------------------------------
# Terms versions, the counter, data use
# ---------------------------------------------------------------------------------------------


def terms_table() -> Table:
    versions = selectors.terms_uptake()
    return Table(
        name="terms",
        title=_("Versions of the terms"),
        row_heading=_("Purpose and version"),
        rows=[
            _("%(purpose)s, version %(version)s")
            % {"purpose": v.terms.purpose.name, "version": v.terms.version}
            for v in versions
        ],
        columns=[_("Residents whose consent rests on it")],
        counts=[[v.residents] for v in versions],
        totals=False,
        note_columns=[_("Published"), _("Status"), _("Consents to it lapse")],
        notes=[
            [
                formats.date_format(v.terms.published_at, "Y-m-d"),
                _("in force") if v.usable else _("replaced: residents must agree again"),
                formats.date_format(v.lapses_on, "Y-m-d") if v.lapses_on else "—",
            ]
            for v in versions
        ],
    )


def counter_table() -> Table:
    work = selectors.counter_work()
    return Table(
        name="counter",
        title=_("Consents recorded at the city counter, by member of staff"),
        row_heading=_("Member of staff"),
        rows=[clerk.staff or _("(account deleted)") for clerk in work],
        columns=[_("Consents given"), _("Consents withdrawn")],
        counts=[[clerk.grants, clerk.withdrawals] for clerk in work],
        note_columns=[_("Form references"), _("Disputed")],
        notes=[
            [f"{clerk.first_reference} – {clerk.last_reference}", str(clerk.disputed)]
            for clerk in work
        ],
    )


DAYS_CHOICES = [
    (7, gettext_lazy("7 days")),
    (14, gettext_lazy("14 days")),
    (31, gettext_lazy("31 days")),
]


class DataUseForm(forms.Form):
    days = forms.TypedChoiceField(
        label=gettext_lazy("Period"), choices=DAYS_CHOICES, coerce=int, initial=7
    )


def days_of(period: int) -> list[date]:
    """The last ``period`` days, today included, newest first."""
    today = timezone.localdate()
    return [today - timedelta(days=n) for n in range(period)]


def data_use_table(params: Mapping[str, str]) -> Table:
    form = DataUseForm(_with_defaults(params, DataUseForm))
    if not form.is_valid():
        raise ReportError(_errors(form))
    days, readers = selectors.data_use_by_day(days=form.cleaned_data["days"])
    purposes = {p.code: p.name for p in Purpose.objects.all()}
    kinds = dict(ReaderKind.choices)
    return Table(
        name="data-use",
        title=_("Residents whose data was read, per day, by purpose and reader"),
        row_heading=_("Purpose — reader"),
        rows=[
            f"{purposes.get(r.purpose_code, r.purpose_code)} — {kinds.get(r.reader_kind, '')}: "
            f"{r.reader_name}"
            for r in readers
        ],
        columns=[formats.date_format(day, "n/j") for day in days],
        counts=[[r.residents_by_day.get(day, 0) for day in days] for r in readers],
        # The same residents are read day after day: the days do not add up.
        totals=False,
    )


# ---------------------------------------------------------------------------------------------
# Breakdowns by area and age band, and the coverage of warnings
# ---------------------------------------------------------------------------------------------

AGE = "age"


def _dimension_choices() -> list[tuple[str, str]]:
    return [
        *(
            (f"area-{kind}", _("By area: %(level)s") % {"level": label})
            for kind, label in Area.Kind.choices
        ),
        (AGE, _("By age band")),
    ]


class BreakdownForm(TrendForm):
    by = forms.ChoiceField(label=gettext_lazy("Breakdown"))
    weeks = None  # type: ignore[assignment]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        by = self.fields["by"]
        assert isinstance(by, forms.ChoiceField)
        by.choices = _dimension_choices()
        by.initial = f"area-{Area.Kind.DISTRICT}"


class CoverageForm(forms.Form):
    level = forms.ChoiceField(
        label=gettext_lazy("Areas"), choices=Area.Kind.choices, initial=Area.Kind.DISTRICT
    )


@dataclass(frozen=True)
class BreakdownPage:
    run: PlanningStatisticsRun | None
    table: Table | None


def breakdown(params: Mapping[str, str]) -> BreakdownPage:
    form = BreakdownForm(_with_defaults(params, BreakdownForm))
    if not form.is_valid():
        raise ReportError(_errors(form))
    run = selectors.latest_planning_statistics()
    if run is None:
        return BreakdownPage(run=None, table=None)
    purpose = Purpose.objects.get(code=form.cleaned_data["purpose"])
    category = DataCategory.objects.get(code=form.cleaned_data["category"])
    by = form.cleaned_data["by"]
    codes = {"purpose_code": purpose.code, "category_code": category.code}
    if by == AGE:
        result = selectors.breakdown_by_age(run, **codes)
        heading, unplaced = _("Age band"), _("Age not shared for statistics")
    else:
        result = selectors.breakdown_by_area(run, **codes, kind=by.removeprefix("area-"))
        heading = _("Area")
        unplaced = _("Home area not shared for statistics, or above this level")
    groups = [*result.groups, selectors.Group(unplaced, *_counts(result.unplaced))]
    return BreakdownPage(
        run=run,
        table=Table(
            name="breakdown",
            title=_("Residents with an active consent to %(purpose)s / %(category)s")
            % {"purpose": purpose.name, "category": category.name},
            row_heading=heading,
            rows=[group.label for group in groups],
            columns=[_("Consent active"), _("No active consent")],
            counts=[[g.consenting, g.known - g.consenting] for g in groups],
        ),
    )


def coverage(params: Mapping[str, str]) -> BreakdownPage:
    form = CoverageForm(_with_defaults(params, CoverageForm))
    if not form.is_valid():
        raise ReportError(_errors(form))
    run = selectors.latest_planning_statistics()
    if run is None:
        return BreakdownPage(run=None, table=None)
    result = selectors.breakdown_by_area(
        run,
        purpose_code=WARNINGS_COVERAGE[0],
        category_code=WARNINGS_COVERAGE[1],
        kind=form.cleaned_data["level"],
    )
    unplaced = selectors.Group(
        _("Home area not shared for statistics, or above this level"), *_counts(result.unplaced)
    )
    groups = [*result.groups, unplaced]
    return BreakdownPage(
        run=run,
        table=Table(
            name="coverage",
            title=_("Residents who will receive disaster warnings for the area they live in"),
            row_heading=_("Area"),
            rows=[group.label for group in groups],
            columns=[_("Will receive warnings"), _("Will not")],
            counts=[[g.consenting, g.known - g.consenting] for g in groups],
            note_columns=[_("Share receiving")],
            notes=[
                [share(g.consenting, g.known) or "—" if g is not unplaced else "—"] for g in groups
            ],
        ),
    )


# Warnings reach a resident for an area when they agreed to disaster warnings using their places.
WARNINGS_COVERAGE = (PurposeCode.DISASTER_WARNINGS, Category.PLACES)


def _counts(group: selectors.Group) -> tuple[int, int]:
    return group.known, group.consenting


# ---------------------------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------------------------


def _trend_events(params: Mapping[str, str]) -> Table:
    return trend(params).events


def _trend_active(params: Mapping[str, str]) -> Table:
    return trend(params).active


def _breakdown(params: Mapping[str, str]) -> Table:
    return _computed(breakdown(params))


def _coverage(params: Mapping[str, str]) -> Table:
    return _computed(coverage(params))


def _computed(page: BreakdownPage) -> Table:
    if page.table is None:
        raise ReportError(_("The anonymous statistics have not been computed yet."))
    return page.table


EXPORTS: dict[str, Callable[[Mapping[str, str]], Table]] = {
    "overview": lambda params: overview_table(selectors.overview()),
    "trend-events": _trend_events,
    "trend-active": _trend_active,
    "terms": lambda params: terms_table(),
    "counter": lambda params: counter_table(),
    "data-use": data_use_table,
    "breakdown": _breakdown,
    "coverage": _coverage,
}


def table_to_export(params: Mapping[str, str]) -> Table:
    name = params.get("table", "")
    if name not in EXPORTS:
        raise ReportError(
            _("Say which table to export (table=…): one of %(names)s.")
            % {"names": ", ".join(EXPORTS)}
        )
    return EXPORTS[name](params)


def _with_defaults(params: Mapping[str, str], form_class: type[forms.Form]) -> dict[str, object]:
    """The query's values, the form's initial values where the query says nothing (a report
    opened from a link shows its default view), and the first choice otherwise."""
    values: dict[str, object] = {}
    form = form_class()
    for name, field in form.fields.items():
        if name in params:
            values[name] = params[name]
        elif field.initial is not None:
            values[name] = field.initial
        elif isinstance(field, forms.ChoiceField) and field.choices:
            values[name] = next(iter(field.choices))[0]  # type: ignore[arg-type]
    return values


def _errors(form: forms.Form) -> str:
    return " ".join(
        f"{form.fields[name].label}: {' '.join(map(str, messages))}"
        for name, messages in form.errors.items()
    )
