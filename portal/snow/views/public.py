"""/snow/: when a plow last passed each area, as a table that works without JavaScript; htmx
refreshes it every 20 seconds."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_safe
from django.views.decorators.vary import vary_on_headers

from portal.snow import selectors


@require_safe
def map_data(request: HttpRequest) -> HttpResponse:
    """The map's GeoJSON, fetched by static/js/snow-map.js every 20 seconds."""
    response = JsonResponse(selectors.map_features())
    response["Cache-Control"] = "max-age=10"
    return response


@require_GET
@vary_on_headers("HX-Request")
def snow_status(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "area")
    if sort not in selectors.SORTS:
        sort = "area"
    context = {
        "rows": selectors.area_plow_rows(sort=sort),
        "sort": sort,
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        "map_labels": {
            "working": _("plowing"),
            "driving": _("driving, not plowing"),
            "lastPlowed": _("last plowed"),
            "never": _("not yet"),
        },
    }
    htmx = getattr(request, "htmx", None)
    # htmx's refresh takes the table alone; its restoring of a page from history takes it whole.
    if htmx and not htmx.history_restore_request:
        return render(request, "snow/status.html#status-table", context)
    return render(request, "snow/status.html", context)
