"""The consent reports' tables, built from the selectors' counts: what each page shows and what
``export.csv`` / ``export.json`` give for its ``table`` parameter (the same table, hidden counts
and all)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from consent.catalogue import Category, PurposeCode
from consent.models import DataCategory, PlanningStatisticsRun, Purpose, ReaderKind, Recipient
from consent.reports import breakdowns, selectors
from consent.reports.charts import Chart, line_chart
from consent.reports.suppression import (
    SMALL,
    CannotProtect,
    Equation,
    Hidden,
    Key,
    Linked,
    Published,
    Shown,
    suppress_linked,
    suppress_linked_or_all,
)
from consent.reports.tables import Table, share
from consent.reports.tallies import week_of
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
    (they do not add up), hidden together with the terms report's counts of the same moment
    (``overview_and_terms``)."""
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
    shown, _versions = overview_and_terms(report)
    return Table(
        name="overview",
        title=_("Overview"),
        row_heading=_("Measure"),
        rows=[label for label, _count in measures],
        columns=[pgettext("how many", "Residents")],
        counts=[[count] for _label, count in measures],
        totals=False,
        note_columns=[_("Share of registered residents")],
        notes=[
            ["—"],
            *(
                # Only beside a shown count: a share of a shown total gives the count back.
                ["—" if isinstance(shown[i], Hidden) else share(count, report.registered) or "—"]
                for i, (_label, count) in enumerate(parts, start=1)
            ),
        ],
        protected=_column(shown),
    )


def overview_and_terms(
    report: selectors.Overview,
) -> tuple[list[Shown], list[tuple[selectors.TermsUptake, Shown]]]:
    """The overview's measures and each terms version's residents, as published: protected
    together (``_overview_linked``)."""
    versions = selectors.terms_uptake(report.terms)
    measures = [
        report.registered,
        report.consenting,
        *(purpose.residents for purpose in report.per_purpose),
        report.withdrew_recently,
        report.to_consent_again,
    ]
    linked = _overview_linked(report, measures, versions)
    hidden = suppress_linked_or_all(linked)

    def shown(key: Key) -> Shown:
        return hidden.get(key, linked.counts[key])

    return (
        [shown(("measure", i)) for i in range(len(measures))],
        [(v, shown(("version", j))) for j, v in enumerate(versions)],
    )


def _overview_linked(
    report: selectors.Overview, measures: list[int], versions: list[selectors.TermsUptake]
) -> Linked:
    """The overview's measures (``("measure", i)``: the registered, those sharing, each
    purpose, those who withdrew, those asked to agree again) and the versions' residents
    (``("version", j)``), with what is known between them:

    - a part of the registered whose rest is under ten: the rest is a count to protect
      ("registered less sharing" would tell how few share nothing);
    - a purpose's residents are those resting on its versions in force (consents to replaced
      ones are not active), those asked to agree again the replaced versions' (less those
      resting on two, taken as known);
    - every part is at most the registered; a purpose at most those sharing, who are at most
      all purposes together; a version in force at most its purpose, a replaced one at most
      those asked to agree again (each as an equation with an unknown slack; left out when it
      does not hold at the moment, as when a consent has lapsed and is not yet marked).
    """
    counts: dict[Key, int] = {("measure", i): count for i, count in enumerate(measures)}
    counts |= {("version", j): v.residents for j, v in enumerate(versions)}
    equations: list[Equation] = []
    rests: dict[Key, Hidden] = {}
    for i, part in enumerate(measures[1:], start=1):
        if measures[0] - part < SMALL:
            counts[("rest", i)] = measures[0] - part
            rests[("rest", i)] = Hidden.SMALL
            equations.append(Equation.total(("measure", 0), [("measure", i), ("rest", i)]))
    purposes = {p.code: ("measure", 2 + n) for n, p in enumerate(report.per_purpose)}
    again = ("measure", len(measures) - 1)
    # The measure each version belongs to: its purpose's when in force, else "agree again".
    owner = [purposes[v.terms.purpose.code] if v.usable else again for v in versions]
    for measure in [*purposes.values(), again]:
        keys = [("version", j) for j in range(len(versions)) if owner[j] == measure]
        if keys:
            rest = counts[measure] - sum(counts[key] for key in keys)
            equations.append(Equation.total(measure, keys, rest))
    bounds = [(("measure", i), [("measure", 0)]) for i in range(1, len(measures))]
    bounds += [(purpose, [("measure", 1)]) for purpose in purposes.values()]
    bounds.append((("measure", 1), list(purposes.values())))
    bounds += [(("version", j), [owner[j]]) for j in range(len(versions))]
    latent: dict[Key, tuple[int, int | None]] = {}
    for smaller, larger in bounds:
        if counts[smaller] <= sum(counts[key] for key in larger):
            slack = ("slack", len(latent))
            latent[slack] = (0, None)
            equations.append(Equation.at_most(smaller, larger, slack))
    return Linked(
        counts=counts,
        equations=equations,
        latent=latent,
        margins=frozenset({("measure", 0)}),
        hidden_from_start=rests,
    )


def _column(shown: Sequence[Shown]) -> Published:
    return Published(cells=tuple((s,) for s in shown), row_totals=(), column_totals=(), total=0)


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


# The trends of every period are protected over the same weeks (at least the longest period's,
# and every week since the first decision), so that two periods' tables show each week alike.
PROTECTED_WEEKS = max(weeks for weeks, _label in WEEKS_CHOICES)
# Active consents are shown rounded to this: exact, two weeks' difference would tell how many
# consents the week's decisions added, and so a small count of them.
ACTIVE_ROUNDING = 10


def trend(params: Mapping[str, str], *, now: datetime | None = None) -> Trend:
    """The weeks that have ended, the last of them last week: a week still under way would be
    told apart from one day to the next. They are protected from the first week with any
    decision on, so that every page ever shown protects each week the same way as far as it
    can (a week's decisions are set against the active consents before and after it)."""
    form = report_form(TrendForm, params)
    if not form.is_valid():
        raise ReportError(_errors(form))
    purpose = Purpose.objects.get(code=form.cleaned_data["purpose"])
    category = DataCategory.objects.get(code=form.cleaned_data["category"])
    last = week_of(now or timezone.now()) - timedelta(weeks=1)
    first = selectors.first_tally_week(purpose_code=purpose.code, category_code=category.code)
    since_first = 0 if first is None else (last - first).days // 7 + 1
    span = max(PROTECTED_WEEKS, since_first)
    protected = selectors.weekly_trend(
        purpose_code=purpose.code,
        category_code=category.code,
        weeks=span,
        now=datetime.combine(last, time(12), tzinfo=timezone.get_current_timezone()),
    )
    # Weeks before the first decision are known to be empty (the terms say when the purpose
    # began): they are shown hidden, and the decisions are protected from the first on.
    empty = span - since_first
    events, active = trend_published(protected[empty:])
    events = tuple((Hidden.SMALL,) * len(EVENTS) for _week in range(empty)) + events
    active = tuple((Hidden.SMALL,) for _week in range(empty)) + active
    shown = slice(span - form.cleaned_data["weeks"], None)
    weeks = protected[shown]
    labels = [_week_label(week.week) for week in weeks]
    subject = f"{purpose.name} / {category.name}"
    events_table = Table(
        name="trend-events",
        title=_("Consent decisions per week: %(subject)s") % {"subject": subject},
        row_heading=_("Week starting"),
        rows=labels,
        columns=[_("Grants"), _("Refusals"), _("Withdrawals"), _("Expiries")],
        counts=[[w.granted, w.refused, w.withdrawn, w.expired] for w in weeks],
        # Without totals: a week's decisions do not add up to anything published.
        totals=False,
        protected=Published(cells=events[shown], row_totals=(), column_totals=(), total=0),
    )
    active_table = Table(
        name="trend-active",
        title=_("Active consents at the end of each week: %(subject)s") % {"subject": subject},
        row_heading=_("Week starting"),
        rows=labels,
        columns=[_("Active consents, to the nearest ten")],
        counts=[[w.active] for w in weeks],
        totals=False,
        protected=Published(cells=active[shown], row_totals=(), column_totals=(), total=0),
    )
    return Trend(
        purpose=purpose.name,
        category=category.name,
        weeks=weeks,
        events=events_table,
        active=active_table,
        chart=line_chart(
            [_short_week(week.week) for week in weeks],
            [
                (_("Active consents"), "line-active", _visible(active_table, 0)),
                (_("Grants"), "line-granted", _visible(events_table, 0)),
                (_("Withdrawals"), "line-withdrawn", _visible(events_table, 2)),
            ],
        ),
    )


EVENTS = ("granted", "refused", "withdrawn", "expired")
Cells = tuple[tuple[Shown, ...], ...]


def trend_published(weeks: list[selectors.WeekOfConsents]) -> tuple[Cells, Cells]:
    """Each week's decisions and its active consents as published: active consents rounded,
    decisions hidden under ten and, where the rounded active consents of two weeks would still
    tell a hidden one, more decisions hidden (each week's change of active consents is its
    grants less its withdrawals and expiries, give or take what else changed, which is taken as
    known)."""
    active = tuple((_rounded(week.active),) for week in weeks)
    linked = Linked(
        counts={
            (event, i): getattr(week, event) for i, week in enumerate(weeks) for event in EVENTS
        },
        equations=[
            Equation(
                {
                    ("active", i): 1,
                    ("active", i - 1): -1,
                    ("granted", i): -1,
                    ("withdrawn", i): 1,
                    ("expired", i): 1,
                },
                (week.became_active - week.stopped_active)
                - (week.granted - week.withdrawn - week.expired),
            )
            for i, week in enumerate(weeks)
        ],
        latent={
            # The weeks start before the first decision: nothing was active before them.
            ("active", -1): (0, 0),
            **{("active", i): _rounding_bounds(shown) for i, (shown,) in enumerate(active)},
        },
    )
    try:
        hidden = suppress_linked(linked)
    except CannotProtect:
        # Nothing left to hide among the decisions: the active consents go instead.
        active = tuple(
            (Hidden.PROTECTING if week.active >= SMALL else Hidden.SMALL,) for week in weeks
        )
        hidden = suppress_linked(replace(linked, equations=[], latent={}))
    events = tuple(
        tuple(hidden.get((event, i), getattr(week, event)) for event in EVENTS)
        for i, week in enumerate(weeks)
    )
    return events, active


def _rounded(count: int) -> Shown:
    """A count of ten or more to the nearest ACTIVE_ROUNDING (halves up); under ten, hidden."""
    if count < SMALL:
        return Hidden.SMALL
    return (count + ACTIVE_ROUNDING // 2) // ACTIVE_ROUNDING * ACTIVE_ROUNDING


def _rounding_bounds(shown: Shown) -> tuple[int, int | None]:
    """What a rounded count could be."""
    if shown is Hidden.SMALL:
        return (0, SMALL - 1)
    assert isinstance(shown, int)
    half = ACTIVE_ROUNDING // 2
    return (max(SMALL, shown - half), shown + half - 1)


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


def terms_table(report: selectors.Overview) -> Table:
    """Each version of the terms with the residents whose consent rests on it, counted with
    the overview (``report``) and protected with it."""
    _measures, versions = overview_and_terms(report)
    return Table(
        name="terms",
        title=_("Versions of the terms"),
        row_heading=_("Purpose and version"),
        rows=[
            _("%(purpose)s, version %(version)s")
            % {"purpose": v.terms.purpose.name, "version": v.terms.version}
            for v, _shown in versions
        ],
        columns=[_("Residents whose consent rests on it")],
        counts=[[v.residents] for v, _shown in versions],
        totals=False,
        note_columns=[pgettext("date", "Published"), _("Status"), _("Consents to it lapse")],
        notes=[
            [
                formats.date_format(v.terms.published_at, "Y-m-d"),
                _("in force") if v.usable else _("replaced: residents must agree again"),
                formats.date_format(v.lapses_on, "Y-m-d") if v.lapses_on else "—",
            ]
            for v, _shown in versions
        ],
        protected=_column([shown for _v, shown in versions]),
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

AGE = breakdowns.AGE


def _dimension_choices() -> list[tuple[str, str]]:
    return [
        *(
            (breakdowns.area_grouping(kind), _("By area: %(level)s") % {"level": label})
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
        by.initial = breakdowns.area_grouping(Area.Kind.DISTRICT)


class CoverageForm(forms.Form):
    level = forms.ChoiceField(
        label=gettext_lazy("Areas"), choices=Area.Kind.choices, initial=Area.Kind.DISTRICT
    )


@dataclass(frozen=True)
class BreakdownPage:
    run: PlanningStatisticsRun | None
    table: Table | None
    # Why there is no table although the run is there.
    note: str = ""


def _too_few(run: PlanningStatisticsRun) -> BreakdownPage:
    return BreakdownPage(
        run=run,
        table=None,
        note=_("Fewer than ten residents have this consent: there is nothing to break down."),
    )


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
    if not breakdowns.broken_down(run.consenting, breakdowns.pair_of(purpose.code, category.code)):
        return _too_few(run)
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
            protected=_as_run_published(result, groups, by, **codes),
        ),
    )


def _as_run_published(
    result: selectors.Breakdown,
    groups: list[selectors.Group],
    grouping: str,
    *,
    purpose_code: str,
    category_code: str,
) -> Published:
    """A breakdown's counts hidden as its run decided for all of its tables together."""
    hidden = result.run.hidden or {}
    pair = breakdowns.pair_of(purpose_code, category_code)

    def shown(key: str, count: int) -> Shown:
        return breakdowns.shown(hidden, key, count)

    return Published(
        cells=tuple(
            (
                shown(breakdowns.consenting_key(pair, grouping, g.key), g.consenting),
                shown(breakdowns.not_consenting_key(pair, grouping, g.key), g.known - g.consenting),
            )
            for g in groups
        ),
        row_totals=tuple(shown(breakdowns.known_key(grouping, g.key), g.known) for g in groups),
        column_totals=(
            shown(breakdowns.consenting_total_key(pair), result.consenting),
            shown(breakdowns.not_consenting_total_key(pair), result.registered - result.consenting),
        ),
        total=shown(breakdowns.REGISTERED, result.registered),
    )


def coverage(params: Mapping[str, str]) -> BreakdownPage:
    form = report_form(CoverageForm, params)
    if not form.is_valid():
        raise ReportError(_errors(form))
    run = selectors.latest_planning_statistics()
    if run is None:
        return BreakdownPage(run=None, table=None)
    # Warnings reach a resident for an area when they agreed to them using their places.
    codes = {"purpose_code": PurposeCode.DISASTER_WARNINGS, "category_code": Category.PLACES}
    level = form.cleaned_data["level"]
    if not breakdowns.broken_down(run.consenting, breakdowns.pair_of(**codes)):
        return _too_few(run)
    result = selectors.breakdown_by_area(run, **codes, kind=level)
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
            protected=_as_run_published(result, groups, breakdowns.area_grouping(level), **codes),
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
        raise ReportError(page.note or _("The anonymous statistics have not been computed yet."))
    return page.table


EXPORTS: dict[str, Callable[[Mapping[str, str]], Table]] = {
    "overview": lambda params: overview_table(current_overview()),
    "trend-events": _trend_events,
    "trend-active": _trend_active,
    "terms": lambda params: terms_table(current_overview()),
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
