"""The home page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.home.pages import home_context


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    resident_id = request.user.pk if request.user.is_authenticated else None
    return render(request, "portal/home.html", home_context(resident_id=resident_id))
