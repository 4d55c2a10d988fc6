"""The estimated audience of a targeting, as an htmx fragment for the notice form.

POST fields: ``category`` (the notice category), ``areas`` (area codes), ``age_bands``,
``interests`` (interest codes), ``school_audiences`` ("school-code:grade", or "school-code:" for
every grade); each may repeat. Answers a small HTML fragment with the rounded estimate; 400 with
the reason for bad input, 429 when the staff member asked too often.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.notices.audience import EstimateRateLimited, InvalidTargeting, estimate_audience
from portal.notices.models import AGE_BANDS
from portal.notices.services import Targeting
from portal.staff.gate import CONSOLE_PERMISSION, staff_view

# Any of these lets a staff member write some notice, and so estimate its audience.
WRITING_PERMISSIONS = (
    "notices.edit_notices",
    "notices.emergency_publish",
    "notices.publish_school_letters",
)
MAX_VALUES = 200


@staff_view(permission=CONSOLE_PERMISSION)
@require_POST
def estimate(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not may_estimate(user):
        raise PermissionDenied
    try:
        category, targeting = targeting_from(request)
        result = estimate_audience(
            targeting=targeting,
            category=category,
            staff=user,  # type: ignore[arg-type]  # the staff gate let only a User through
        )
    except InvalidTargeting as error:
        return _fragment(str(error), status=400, kind="error")
    except EstimateRateLimited as error:
        response = _fragment(str(error), status=429, kind="error")
        response["Retry-After"] = str(error.retry_after)
        return response
    return _fragment(
        _("Estimated audience: %(estimate)s") % {"estimate": result.display}, status=200
    )


def estimate_text(request: HttpRequest) -> str:
    """The estimate, or why there is none, for the editor's page without JavaScript."""
    if not may_estimate(request.user):
        raise PermissionDenied
    try:
        category, targeting = targeting_from(request)
        result = estimate_audience(
            targeting=targeting,
            category=category,
            staff=request.user,  # type: ignore[arg-type]  # behind the staff gate
        )
    except (InvalidTargeting, EstimateRateLimited) as error:
        return str(error)
    return _("Estimated audience: %(estimate)s") % {"estimate": result.display}


def may_estimate(user: Any) -> bool:
    """Only who may write some notice estimates audiences (each estimate reads residents)."""
    return any(user.has_perm(permission) for permission in WRITING_PERMISSIONS)


def targeting_from(request: HttpRequest) -> tuple[str, Targeting]:
    """The notice category and targeting in the POST data; InvalidTargeting if malformed."""
    data = request.POST
    category = data.get("category", "").strip()
    if not category:
        raise InvalidTargeting(_("Choose the notice's category first."))
    lists = {name: _values(data.getlist(name)) for name in ("areas", "age_bands", "interests")}
    for band in lists["age_bands"]:
        if band not in AGE_BANDS:
            raise InvalidTargeting(_("Unknown age band: %(band)s") % {"band": band})
    audiences: list[tuple[str, int | None]] = []
    # The notice editor's rows: audience_school_N with audience_grade_N (empty: every grade).
    for key in sorted(k for k in data if k.startswith("audience_school_")):
        code = data.get(key, "").strip()
        if code:
            grade = data.get(key.replace("school", "grade"), "").strip()
            if grade and not grade.isdigit():
                raise InvalidTargeting(_("A grade is between 1 and 12."))
            audiences.append((code, int(grade) if grade else None))
    for value in _values(data.getlist("school_audiences")):
        code, separator, grade = value.partition(":")
        if not separator or not code:
            raise InvalidTargeting(
                _("A school audience is written as school code, colon, grade (or nothing).")
            )
        if grade == "":
            audiences.append((code, None))
        elif grade.isdigit():
            audiences.append((code, int(grade)))
        else:
            raise InvalidTargeting(_("A grade is between 1 and 12."))
    return category, Targeting(
        area_codes=tuple(lists["areas"]),
        age_bands=tuple(lists["age_bands"]),
        interest_codes=tuple(lists["interests"]),
        school_audiences=tuple(audiences),
    )


def _values(raw: list[str]) -> list[str]:
    values = [value.strip() for value in raw if value.strip()]
    if len(values) > MAX_VALUES:
        raise InvalidTargeting(_("Too many values in the targeting."))
    return values


def _fragment(text: str, *, status: int, kind: str = "estimate") -> HttpResponse:
    return HttpResponse(
        format_html('<p class="audience-{}" role="status">{}</p>', kind, text), status=status
    )
