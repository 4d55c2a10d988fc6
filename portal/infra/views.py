"""Plumbing endpoints: the health check and the per-browser text-size preference."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.infra.health import health_report
from portal.infra.preferences import TEXT_SIZE_COOKIE, TEXT_SIZE_COOKIE_MAX_AGE, TextSize


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


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Status only for anyone (a load balancer needs no more); which part is down, and why, for
    a caller holding HEALTHZ_TOKEN (an error names the exception, the heartbeat's age), and on
    a development site (DEBUG), where `make run` shows the parts coming up."""
    report = health_report()
    detailed = settings.DEBUG or _holds_healthz_token(request)
    # The details carry the same "status" key, so a monitor reads one field either way.
    body = {**report.as_status(), **report.as_dict()} if detailed else report.as_status()
    response = JsonResponse(body, status=200 if report.healthy else 503)
    # A 503 here is the answer, not a fault of the view: the failing check has already logged
    # what is down, so Django's "Service Unavailable" error line would only repeat it.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _holds_healthz_token(request: HttpRequest) -> bool:
    token: str = settings.HEALTHZ_TOKEN
    if not token:
        return False
    sent = request.headers.get("authorization", "").removeprefix("Bearer ")
    return constant_time_compare(sent, token)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.headers.get("referer") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"
