"""Public pages about places: the designated shelters, by name or nearest first, with a map."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_safe
from django.views.decorators.vary import vary_on_headers

from portal.places import pages, selectors
from portal.places.forms import ShelterSearchForm


@require_GET
@vary_on_headers("HX-Request")
def shelters(request: HttpRequest) -> HttpResponse:
    form = ShelterSearchForm(request.GET)
    context = {
        "form": form,
        "districts": selectors.districts_with_shelters(),
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        "map_labels": {"youAreHere": _("You are here (about)")},
        "login_url": _login_then(f"{reverse('shelters')}?near=home"),
    }
    if not form.is_valid():
        # Nothing is searched with a bad search: the form says what is wrong.
        return render(request, "portal/shelters.html", context, status=400)
    data = form.cleaned_data
    position = (data["lat"], data["lon"]) if data["lat"] is not None else None
    results = pages.shelter_results(
        area_code=data["area"],
        hazard=data["hazard"],
        near=data["near"],
        position=position,
        page_number=request.GET.get("page"),
        resident_id=request.user.pk if request.user.is_authenticated else None,
    )
    context["results"] = results
    context["map_query"] = pages.map_query(
        area_code=data["area"], hazard=data["hazard"], near=data["near"]
    )
    context["by_name_query"] = pages.map_query(area_code=data["area"], hazard=data["hazard"])
    return render(request, "portal/shelters.html", context)


@require_safe
def shelter_map(request: HttpRequest) -> HttpResponse:
    """The map's GeoJSON, fetched by static/js/shelter-map.js."""
    form = ShelterSearchForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    data = form.cleaned_data
    shelters = pages.map_shelters(
        area_code=data["area"],
        hazard=data["hazard"],
        near=data["near"],
        resident_id=request.user.pk if request.user.is_authenticated else None,
    )
    response = JsonResponse(selectors.shelter_map_features(shelters))
    if data["near"] != "home":
        # The same for everyone: a browser may keep it a while.
        response["Cache-Control"] = "max-age=300"
    return response


def _login_then(path: str) -> str:
    return f"{reverse('account_login')}?{urlencode({'next': path})}"
