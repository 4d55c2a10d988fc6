from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from portal.infra.preferences import TEXT_SIZE_COOKIE, TextSize


def preferences(request: HttpRequest) -> dict[str, object]:
    """Per-browser display preferences, so the first paint is already right (no JS)."""
    return {
        "text_size": TextSize.from_cookie(request.COOKIES.get(TEXT_SIZE_COOKIE)),
        "site_url": settings.SITE_URL,
    }
