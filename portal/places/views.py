"""Public pages about places: the designated shelters by district."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.places import selectors


@require_GET
def shelters(request: HttpRequest) -> HttpResponse:
    area_code = request.GET.get("area", "")
    return render(
        request,
        "portal/shelters.html",
        {
            "districts": selectors.districts_with_shelters(),
            "selected_area": area_code,
            "shelters": selectors.shelters_in_area(area_code=area_code),
        },
    )
