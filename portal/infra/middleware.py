from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.core.handlers.exception import get_exception_response
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import get_resolver, get_urlconf
from django.utils.cache import patch_cache_control

from portal.staff.gate import staff_refusal
from portal.staff.sessions import staff_session_expired, staff_session_expiry_cap

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


class StaffSessionAgeMiddleware:
    """A staff session ends STAFF_SESSION_AGE after its login (portal.staff.sessions): past
    its deadline the request goes on logged out, and on the way out the session's expiry is
    kept within the deadline."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_session(request) and staff_session_expired(request.session):
            logout(request)
        response = self.get_response(request)
        if _has_session(request):
            staff_session_expiry_cap(request.session)
        return response


def _has_session(request: HttpRequest) -> bool:
    # Reading the session of a request that neither brought nor used one would add
    # "Vary: Cookie" to public responses.
    return settings.SESSION_COOKIE_NAME in request.COOKIES or request.session.accessed


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


class StyledNotFoundInDebugMiddleware:
    """With DEBUG on, a page that is not found is the styled 404 page residents see.

    Django's technical 404 page lists every URL pattern of the site; a developer who wants it
    sets DEBUG_TECHNICAL_404. Without DEBUG, Django serves the styled page itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # A URL that matches no pattern never reaches process_exception: the handler turns its
        # Resolver404 into the technical page before any middleware sees it. It is known here by
        # the missing resolver match.
        if response.status_code == 404 and request.resolver_match is None and _styled():
            return _not_found(request, Http404(request.path_info))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view that raised Http404 (an unknown id, say)."""
        if isinstance(exception, Http404) and _styled():
            return _not_found(request, exception)
        return None


def _styled() -> bool:
    return bool(settings.DEBUG and not settings.DEBUG_TECHNICAL_404)


def _not_found(request: HttpRequest, exception: Http404) -> HttpResponse:
    """The 404 response Django itself builds when DEBUG is off (handler404, 404.html)."""
    return get_exception_response(request, get_resolver(get_urlconf()), 404, exception)
