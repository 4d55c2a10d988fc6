"""The consent reports' pages and exports, for consent officers and administrators.

Mounted only behind portal's staff gate (portal/staff/urls.py: login, MFA in this session and
the permission consent.view_consent_reports). Every page viewed and every table exported is
written to the staff audit log. The pages show counts of residents only, small ones hidden.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from consent.catalogue import PurposeCode
from consent.reports import pages, selectors
from consent.reports.data_use_check import SNAPSHOT_SLACK
from consent.reports.services import data_use_check_request, report_access_record
from consent.reports.tables import as_csv, as_json, hide_small
from consent.selectors import purpose_by_code
from consent.views import account_of, client_ip

# The query parameters the reports understand; only these are logged, each cut short.
PARAMETERS = ("table", "purpose", "category", "weeks", "days", "by", "level")


def _logged(request: HttpRequest, report: str, export_format: str | None = None) -> None:
    report_access_record(
        staff=account_of(request),
        report=report,
        # Cut short, and without NUL, which PostgreSQL's text columns refuse.
        params={
            key: request.GET[key][:64].replace("\x00", "")
            for key in PARAMETERS
            if key in request.GET
        },
        export_format=export_format,
        ip_address=client_ip(request),
    )


def _page(
    request: HttpRequest, template: str, report: str, context: dict[str, object]
) -> HttpResponse:
    _logged(request, report)
    return render(request, template, {"report": report, **context})


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    report = pages.current_overview()
    show_accesses = request.user.has_perm("portal.view_staffauditentry")
    return _page(
        request,
        "consent/reports/overview.html",
        "overview",
        {
            "overview": report,
            "table": pages.overview_table(report),
            "at_the_counter": hide_small(report.at_the_counter),
            "accesses": selectors.recent_report_accesses() if show_accesses else None,
        },
    )


@require_GET
def trends(request: HttpRequest) -> HttpResponse:
    form = pages.report_form(pages.TrendForm, request.GET)
    try:
        trend = pages.trend(request.GET)
    except pages.ReportError:
        # The form, bound to the same query, lists what is wrong.
        return render(
            request, "consent/reports/trends.html", {"report": "trends", "form": form}, status=400
        )
    return _page(
        request,
        "consent/reports/trends.html",
        "trends",
        {"form": form, "trend": trend, "query": request.GET.urlencode()},
    )


@require_GET
def terms(request: HttpRequest) -> HttpResponse:
    table = pages.terms_table(pages.current_overview())
    return _page(request, "consent/reports/terms.html", "terms", {"table": table})


@require_http_methods(["GET", "POST"])
def data_use(request: HttpRequest) -> HttpResponse:
    """The log's counts per day, and the check of each day against the ledger; a POST has the
    worker check the period now."""
    params = request.POST if request.method == "POST" else request.GET
    form = pages.report_form(pages.DataUseForm, params)
    try:
        if not form.is_valid():
            raise pages.ReportError(form.errors.as_text())
        table = pages.data_use_table(params)
    except pages.ReportError:
        return render(
            request,
            "consent/reports/data_use.html",
            {"report": "data-use", "form": form},
            status=400,
        )
    days: int = form.cleaned_data["days"]  # valid: the table was built from the same form
    if request.method == "POST":
        data_use_check_request(staff=account_of(request), days=days, ip_address=client_ip(request))
        messages.info(
            request,
            _(
                "The check of these days has started; it takes about a minute for a city. "
                "Reload this page to see its outcome."
            ),
        )
        return redirect(f"{request.path}?days={days}")
    return _page(
        request,
        "consent/reports/data_use.html",
        "data-use",
        {
            "form": form,
            "table": table,
            "query": request.GET.urlencode(),
            "days": days,
            "checks": selectors.data_use_checks(days=selectors.last_days(days)),
            "slack": int(SNAPSHOT_SLACK.total_seconds()),
        },
    )


@require_GET
def counter(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "consent/reports/counter.html",
        "counter",
        {"table": pages.counter_table(), "disputes": selectors.counter_disputes_for_report()},
    )


@require_GET
def breakdown(request: HttpRequest) -> HttpResponse:
    return _statistics_page(
        request, pages.BreakdownForm, pages.breakdown, "breakdown", "consent/reports/breakdown.html"
    )


@require_GET
def coverage(request: HttpRequest) -> HttpResponse:
    warnings = purpose_by_code(code=PurposeCode.DISASTER_WARNINGS)
    return _statistics_page(
        request,
        pages.CoverageForm,
        pages.coverage,
        "coverage",
        "consent/reports/coverage.html",
        warnings=warnings.name if warnings else "",
    )


def _statistics_page(
    request: HttpRequest,
    form_class: type[Form],
    build: Callable[[QueryDict], pages.BreakdownPage],
    report: str,
    template: str,
    **context: object,
) -> HttpResponse:
    form = pages.report_form(form_class, request.GET)
    try:
        page = build(request.GET)
    except pages.ReportError:
        return render(request, template, {"report": report, "form": form, **context}, status=400)
    return _page(
        request,
        template,
        report,
        {
            "form": form,
            "run": page.run,
            "table": page.table,
            "note": page.note,
            "query": request.GET.urlencode(),
            **context,
        },
    )


@require_GET
def export(request: HttpRequest, export_format: str) -> HttpResponse:
    try:
        table = pages.table_to_export(request.GET)
    except pages.ReportError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    _logged(request, table.name, export_format)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if export_format == "csv":
        # With a byte-order mark: Excel, which the city's offices use, reads UTF-8 only then.
        response = HttpResponse("\ufeff" + as_csv(table), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            as_json(table, generated_at=timezone.now().isoformat()),
            content_type="application/json",
        )
    response["Content-Disposition"] = (
        f'attachment; filename="consent-report-{table.name}-{stamp}.{export_format}"'
    )
    return response
