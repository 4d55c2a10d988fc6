"""Plumbing endpoints: the health check and the per-browser text-size preference."""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template import loader
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.defaults import server_error as django_server_error

from portal.infra.health import DOWN, health_report
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
    # Degraded is still 200: the site serves residents, and a load balancer taking every web
    # process out of service because Redis is away would turn a degraded site into no site.
    response = JsonResponse(body, status=503 if report.status == DOWN else 200)
    # A 503 here is the answer, not a fault of the view: the failing check has already logged
    # what is down, so Django's "Service Unavailable" error line would only repeat it.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


logger = logging.getLogger(__name__)

# While the database is away, a page says so and when to try again; anything else is a fault.
RETRY_AFTER_DATABASE_OUTAGE_SECONDS = 30


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage answers 503 with a styled page, not a generic error.

    PostgreSQL restarting (a failover, an upgrade) is an outage of seconds, after which Django's
    connection health checks reconnect by themselves; the resident should simply try again.
    """
    # A lost or refused connection; a bad query stays a 500, a fault to be fixed.
    error = sys.exc_info()[1]
    if not isinstance(error, (OperationalError, InterfaceError)):
        return django_server_error(request)
    # Rendered without a request context: context processors would query the database.
    body = loader.get_template("503.html").render()
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_DATABASE_OUTAGE_SECONDS)
    # One line per request instead of Django's traceback: during an outage every request fails
    # the same way, and a hundred lines each would bury everything else in the log.
    logger.error(
        "Database unavailable (%s: %s): answered 503 to %s %s",
        type(error).__name__,
        str(error).strip().splitlines()[0] if str(error).strip() else "",
        request.method,
        request.path,
    )
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
