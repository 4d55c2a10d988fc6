from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from portal.infra.preferences import TEXT_SIZE_COOKIE, TextSize
from portal.staff.gate import shows_staff_console_link


def preferences(request: HttpRequest) -> dict[str, object]:
    """Per-browser display preferences, so the first paint is already right (no JS)."""
    return {
        "text_size": TextSize.from_cookie(request.COOKIES.get(TEXT_SIZE_COOKIE)),
        "site_url": settings.SITE_URL,
    }


def staff_link(request: HttpRequest) -> dict[str, object]:
    """Whether the navigation shows the staff console, asked only when a page shows it."""
    return {"shows_staff_link": SimpleLazyObject(lambda: shows_staff_console_link(request.user))}
