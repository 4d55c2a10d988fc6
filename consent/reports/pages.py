"""The consent reports' tables, built from the selectors' counts: what each page shows and what
``export.csv`` / ``export.json`` give for its ``table`` parameter (the same table, hidden counts
and all)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from django import forms
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from consent.catalogue import Category, PurposeCode
from consent.models import DataCategory, PlanningStatisticsRun, Purpose, ReaderKind, Recipient
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


def current_overview() -> selectors.Overview:
    """The counts beat keeps; counted now only when beat has not for a while."""
    return selectors.overview_snapshot() or selectors.overview()


def overview_table(report: selectors.Overview) -> Table:
    """The overview's counts of residents: the registered, then parts of them, each on its own
    (they do not add up). A part is hidden when it, or the rest of the registered residents,
    is under ten: registered less sharing would otherwise give away how few share nothing."""
    parts = [
        (_("Residents sharing something for at least one purpose"), report.consenting),
        *(
            (_("Sharing for: %(purpose)s") % {"purpose": purpose.name}, purpose.residents)
            for purpose in report.per_purpose
        ),
        (_("Residents who withdrew a consent in the last 30 days"), report.withdrew_recently),
        (_("Residents asked to agree again after a change of terms"), report.to_consent_again),
    ]
    measures = [(_("Registered residents"), report.registered), *parts]
    return Table(
        name="overview",
        title=_("Overview"),
        row_heading=_("Measure"),
        rows=[label for label, _count in measures],
        columns=[pgettext("how many", "Residents")],
        counts=[[count] for _label, count in measures],
        totals=False,
        parts_of_first_row=True,
        note_columns=[_("Share of registered residents")],
        notes=[["—"], *([share(count, report.registered) or "—"] for _label, count in parts)],
    )


# ---------------------------------------------------------------------------------------------
# Trends
# ---------------------------------------------------------------------------------------------

WEEKS_CHOICES = [
    (13, gettext_lazy("13 weeks")),
    (26, gettext_lazy("26 weeks")),
    (52, gettext_lazy("52 weeks")),
]


class PurposeCategoryForm(forms.Form):
    """A purpose and a data category, chosen from the catalogue."""

    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"))
    category = forms.ChoiceField(label=gettext_lazy("Data category"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        purposes, categories = self.fields["purpose"], self.fields["category"]
        assert isinstance(purposes, forms.ChoiceField) and isinstance(categories, forms.ChoiceField)
        purposes.choices = [(p.code, p.name) for p in Purpose.objects.all()]
        categories.choices = [(c.code, c.name) for c in DataCategory.objects.all()]


class TrendForm(PurposeCategoryForm):
    weeks = forms.TypedChoiceField(
        label=gettext_lazy("Period"), choices=WEEKS_CHOICES, coerce=int, initial=26
    )


@dataclass(frozen=True)
class Trend:
    purpose: str
    category: str
    weeks: list[selectors.WeekOfConsents]
    events: Table
    active: Table
    chart: Chart


def trend(params: Mapping[str, str]) -> Trend:
    form = report_form(TrendForm, params)
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
        # Without totals: the weeks of one period and of the next would otherwise be protected
        # by different complementary counts, and the two exports together give a count away.
        totals=False,
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
        note_columns=[pgettext("date", "Published"), _("Status"), _("Consents to it lapse")],
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
        rows=[clerk.staff for clerk in work],
        columns=[_("Consents given"), _("Consents withdrawn")],
        counts=[[clerk.grants, clerk.withdrawals] for clerk in work],
        # How many were disputed is in the list of disputed forms below the table.
        note_columns=[_("Form references")],
        notes=[[f"{clerk.first_reference} – {clerk.last_reference}"] for clerk in work],
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


def data_use_table(params: Mapping[str, str]) -> Table:
    form = report_form(DataUseForm, params)
    if not form.is_valid():
        raise ReportError(_errors(form))
    days, readers = selectors.data_use_by_day(days=form.cleaned_data["days"])
    purposes = {p.code: p.name for p in Purpose.objects.all()}
    recipients = {r.code: r.name for r in Recipient.objects.all()}
    kinds = dict(ReaderKind.choices)
    return Table(
        name="data-use",
        title=_("Residents whose data was read, per day, by purpose and reader"),
        row_heading=_("Purpose — reader"),
        rows=[
            _("%(purpose)s for %(recipient)s — %(kind)s: %(reader)s")
            % {
                "purpose": purposes.get(r.purpose_code, r.purpose_code),
                "recipient": recipients.get(r.recipient_code, r.recipient_code),
                "kind": kinds.get(r.reader_kind, r.reader_kind),
                # Readers' names are marked for translation where they are declared.
                "reader": _(r.reader_name),
            }
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


class BreakdownForm(PurposeCategoryForm):
    by = forms.ChoiceField(label=gettext_lazy("Breakdown"))

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
    form = report_form(BreakdownForm, params)
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
    groups = [*result.groups, replace(result.unplaced, label=unplaced)]
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
    form = report_form(CoverageForm, params)
    if not form.is_valid():
        raise ReportError(_errors(form))
    run = selectors.latest_planning_statistics()
    if run is None:
        return BreakdownPage(run=None, table=None)
    result = selectors.breakdown_by_area(
        run,
        # Warnings reach a resident for an area when they agreed to them using their places.
        purpose_code=PurposeCode.DISASTER_WARNINGS,
        category_code=Category.PLACES,
        kind=form.cleaned_data["level"],
    )
    unplaced = _("Home area not shared for statistics, or above this level")
    groups = [*result.groups, replace(result.unplaced, label=unplaced)]
    return BreakdownPage(
        run=run,
        table=Table(
            name="coverage",
            title=_("Residents who will receive disaster warnings for the area they live in"),
            row_heading=_("Area"),
            rows=[group.label for group in groups],
            columns=[_("Will receive warnings"), _("Will not")],
            counts=[[g.consenting, g.known - g.consenting] for g in groups],
            # Only where both counts of the row are shown: a share beside hidden counts and a
            # shown total would give them back. None for the last row: its areas are unknown.
            row_share=_("Share receiving"),
            row_share_skips_last=True,
        ),
    )


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
    "overview": lambda params: overview_table(current_overview()),
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


def report_form[F: forms.Form](form_class: type[F], params: Mapping[str, str]) -> F:
    """The report's form bound to the query, the form's initial values where the query says
    nothing (a report opened from a link shows its default view), else the first choice. The
    page shows this same form, so what it says is wrong is what the report refused."""
    values: dict[str, object] = {}
    for name, field in form_class().fields.items():
        if params.get(name):
            values[name] = params[name]
        elif field.initial is not None:
            values[name] = field.initial
        elif isinstance(field, forms.ChoiceField) and field.choices:
            values[name] = next(iter(field.choices))[0]  # type: ignore[arg-type]
    return form_class(values)


def _errors(form: forms.Form) -> str:
    return " ".join(
        f"{form.fields[name].label}: {' '.join(map(str, messages))}"
        for name, messages in form.errors.items()
    )
