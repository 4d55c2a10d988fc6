"""The staff console's shell."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.staff.selectors import roles_of


@require_GET
@login_required
@permission_required("portal.access_staff_console", raise_exception=True)
def console(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/staff/console.html", {"roles": roles_of(request.user)})
