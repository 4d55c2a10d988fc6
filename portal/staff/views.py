"""The staff console's shell."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.staff.gate import CONSOLE_PERMISSION, staff_view
from portal.staff.selectors import roles_of
from recommendations.selectors import ranker_status


@staff_view(permission=CONSOLE_PERMISSION)
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/staff/console.html",
        {"roles": roles_of(request.user), "ranker": ranker_status()},
    )
