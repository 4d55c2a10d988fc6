from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from portal.staff.gate import staff_refusal

STAFF_PATH_PREFIXES = ("/admin/", "/staff/")


class StaffGateMiddleware:
    """A backstop behind ``portal.staff.gate``: under /staff/ and /admin/ nobody gets past
    without a login, some staff power and a session that passed two-factor authentication,
    even on a page that forgot its ``staff_view``. Each page's permission is for the page's own
    gate; pages mounted elsewhere rely on it alone (the staff sweep test checks them all).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(STAFF_PATH_PREFIXES):
            refusal = staff_refusal(request, permission=None)
            if refusal is not None:
                return refusal
        return self.get_response(request)


class PrivatePagesNotCachedMiddleware:
    """Pages served to a logged-in person hold personal data: no shared or browser cache may
    keep them (a shared computer at a library, a proxy)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
