from collections.abc import Callable

from django.http import HttpResponse
from django.urls import URLPattern, path

from consent import views as consent_views
from consent.reports import views as report_views
from portal.staff import views
from portal.staff.gate import staff_view

app_name = "staff"

REPORTS_PERMISSION = "consent.view_consent_reports"

urlpatterns = [
    path("", views.console, name="console"),
]


def _report(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A consent report behind the gate: consent officers and administrators, after MFA."""
    return staff_view(permission=REPORTS_PERMISSION)(view)


# consent sits below portal and cannot import the gate, so its staff pages are put behind the
# gate here, where portal mounts them (portal/urls.py, namespace "consent_staff").
consent_urlpatterns: list[URLPattern] = [
    path(
        "counter/",
        staff_view(permission="consent.record_counter_consent")(consent_views.counter),
        name="counter",
    ),
    path(
        "register/",
        staff_view(permission="consent.manage_paper_forms")(consent_views.register),
        name="register",
    ),
    path(
        "register/batches/<int:number>/",
        staff_view(permission="consent.manage_paper_forms")(consent_views.register_batch),
        name="register_batch",
    ),
    path("reports/", _report(report_views.overview), name="reports"),
    path("reports/trends/", _report(report_views.trends), name="reports_trends"),
    path("reports/terms/", _report(report_views.terms), name="reports_terms"),
    path("reports/data-use/", _report(report_views.data_use), name="reports_data_use"),
    path("reports/counter/", _report(report_views.counter), name="reports_counter"),
    path("reports/breakdown/", _report(report_views.breakdown), name="reports_breakdown"),
    path("reports/coverage/", _report(report_views.coverage), name="reports_coverage"),
    path(
        "reports/export.csv",
        _report(report_views.export),
        {"export_format": "csv"},
        name="reports_csv",
    ),
    path(
        "reports/export.json",
        _report(report_views.export),
        {"export_format": "json"},
        name="reports_json",
    ),
]
