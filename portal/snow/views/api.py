"""The positions API: ``POST /api/v1/plow/positions`` with a vehicle's bearer token, and its
OpenAPI description at ``/api/v1/openapi.json``. Thin: checks in portal/snow/positions.py,
writes in portal/snow/services.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from portal.infra.rate_limit import seconds_to_wait
from portal.snow import selectors, services
from portal.snow.positions import (
    BatchRefused,
    Limits,
    Problem,
    check_against_track,
    parse_batch,
)

OPENAPI = Path(__file__).resolve().parent.parent / "openapi.json"
BAD_TOKENS_PER_MINUTE = 30
# "Last used" is kept to the minute: not one more UPDATE for every batch of every plow.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


# Devices, not browsers, post here: they authenticate with a bearer token, never a cookie, so
# there is no session for a cross-site request to ride on.
@csrf_exempt
@require_POST
def positions(request: HttpRequest) -> HttpResponse:
    if request.GET:
        # The API takes no parameters in the URL, and a token there ends up in proxies' and
        # servers' logs (whatever the parameter is called): refused even when valid.
        return _refused(
            [Problem(None, "token", "send the token in the Authorization header, not the URL")]
        )
    found = selectors.vehicle_for_token(_bearer(request))
    if found is None:
        # Guessing tokens is hopeless (256 bits), but each guess costs a query: slowed down.
        failures = f"snow:bad-token:{get_adapter(request).get_client_ip(request)}"
        retry_after = seconds_to_wait(failures, limit=BAD_TOKENS_PER_MINUTE, window=60)
        return _too_many(retry_after, field="token") if retry_after else _unauthorised()
    vehicle, token = found
    retry_after = seconds_to_wait(
        f"snow:batches:{vehicle.pk}", limit=settings.SNOW_BATCHES_PER_MINUTE, window=60
    )
    if retry_after:
        return _too_many(retry_after, field="vehicle")
    if request.content_type != "application/json":
        return _refused(
            [Problem(None, "body", "send the batch as Content-Type: application/json")],
            status=415,
        )
    body = _body_within_limit(request)
    if body is None:
        return _refused([Problem(None, "body", "the batch is too large")], status=413)
    area = selectors.service_area()
    if area is None:
        return _refused(
            [Problem(None, "body", "no service area: no area has a point yet")], status=503
        )
    now = timezone.now()
    limits = _limits()
    try:
        batch = parse_batch(body, now=now, area=area, limits=limits)
        if batch.vehicle and batch.vehicle != str(vehicle.pk):
            raise BatchRefused(
                [Problem(None, "vehicle", "this token belongs to another vehicle than the batch's")]
            )
        track = selectors.track_around(vehicle.pk, start=batch.fixes[0].at, end=batch.fixes[-1].at)
        batch = check_against_track(batch, track, limits)
    except BatchRefused as refused:
        return _refused(refused.problems)
    recorded = services.positions_record(vehicle_id=vehicle.pk, fixes=batch.fixes)
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_RESOLUTION:
        services.token_used(token_id=token.pk, now=now)
    answer: dict[str, object] = {
        "accepted": recorded.accepted,
        "duplicates": recorded.duplicates + batch.repeated,
    }
    if batch.clock_skew_seconds is not None:
        answer["clock_skew_seconds"] = batch.clock_skew_seconds
        if abs(batch.clock_skew_seconds) > settings.SNOW_CLOCK_SKEW_SECONDS:
            answer["warnings"] = ["the device's clock is off: set it by GPS or NTP"]
    return JsonResponse(answer, status=201 if recorded.accepted else 200)


@require_GET
def openapi(request: HttpRequest) -> HttpResponse:
    return HttpResponse(OPENAPI.read_bytes(), content_type="application/json")


def _bearer(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _body_within_limit(request: HttpRequest) -> bytes | None:
    """The body, or None when it is larger than SNOW_MAX_BODY_BYTES (known from
    Content-Length before anything is read, when the client sends it)."""
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > settings.SNOW_MAX_BODY_BYTES:
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    return body if len(body) <= settings.SNOW_MAX_BODY_BYTES else None


def _too_many(retry_after: int, *, field: str) -> HttpResponse:
    response = JsonResponse(
        {"errors": [{"fix": None, "field": field, "message": "too many requests: slow down"}]},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


def _unauthorised() -> HttpResponse:
    response = JsonResponse(
        {"errors": [{"fix": None, "field": "token", "message": "unknown or revoked token"}]},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="plow positions"'
    return response


def _refused(problems: list[Problem], *, status: int = 400) -> HttpResponse:
    return JsonResponse({"errors": [problem.as_json() for problem in problems]}, status=status)


def _limits() -> Limits:
    return Limits(
        max_fixes=settings.SNOW_MAX_BATCH_FIXES,
        max_age=timedelta(seconds=settings.SNOW_MAX_FIX_AGE_SECONDS),
        max_ahead=timedelta(seconds=settings.SNOW_CLOCK_SKEW_SECONDS),
        max_speed_kmh=settings.SNOW_MAX_SPEED_KMH,
    )
