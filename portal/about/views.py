"""Public pages about the portal: the terms of use and the contact page.

Their texts are templates (legal/terms.html, legal/contact.html) that a city may replace with its
own through CITY_TEMPLATES_DIR; the names and contact details in them come from settings.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.about.pages import about_context


@require_GET
def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "legal/terms.html", about_context())


@require_GET
def contact(request: HttpRequest) -> HttpResponse:
    return render(request, "legal/contact.html", about_context())
