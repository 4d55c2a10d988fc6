"""The site plus three report pages, for checking that the staff sweep catches what it is for."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from portal.staff.gate import staff_view


def report(request: HttpRequest) -> HttpResponse:
    return HttpResponse("a staff report")


urlpatterns = [
    path("reports/", report, name="ungated_report"),
    path("staff/reports/", report, name="ungated_report_under_staff"),
    path(
        "gated/reports/",
        staff_view(permission="portal.access_staff_console")(report),
        name="gated_report",
    ),
    path("", include("portal.urls")),
]
