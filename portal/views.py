from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from consent import selectors as consent_selectors
from portal import selectors
from portal.health import health_report
from portal.preferences import TEXT_SIZE_COOKIE, TEXT_SIZE_COOKIE_MAX_AGE, TextSize


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {"overview": selectors.city_overview()}
    if request.user.is_authenticated:
        context["shared_category_count"] = len(
            consent_selectors.covered_categories(resident_id=request.user.pk)
        )
        context["shelter_guidance"] = selectors.shelter_guidance(resident_id=request.user.pk)
    return render(request, "portal/home.html", context)


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


@require_POST
def toggle_text_size(request: HttpRequest) -> HttpResponse:
    """Switch large text on or off for this browser; works as a plain form without JS."""
    current = TextSize.from_cookie(request.COOKIES.get(TEXT_SIZE_COOKIE))
    response = HttpResponseRedirect(_safe_next(request))
    response.set_cookie(
        TEXT_SIZE_COOKIE,
        current.toggled().value,
        max_age=TEXT_SIZE_COOKIE_MAX_AGE,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response


@require_GET
@login_required
@permission_required("portal.access_staff_console", raise_exception=True)
def staff_console(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/staff/console.html", {"roles": selectors.roles_of(request.user)})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report.as_dict(), status=200 if report.healthy else 503)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.headers.get("referer") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"
