"""/snow/: when a plow last passed each area, as a table that works without JavaScript; htmx
refreshes it every 20 seconds."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.snow import selectors


@require_GET
def snow_status(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "area")
    if sort not in selectors.SORTS:
        sort = "area"
    context = {"rows": selectors.area_plow_rows(sort=sort), "sort": sort}
    if getattr(request, "htmx", False):
        return render(request, "snow/status.html#status-table", context)
    return render(request, "snow/status.html", context)
