from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

STAFF_PATH_PREFIXES = ("/admin/", "/staff/")


class StaffRequireMFAMiddleware:
    """Staff pages and the admin are reachable only by accounts with MFA switched on.

    An account with any staff power (the staff flag, a role, a permission) and no
    authenticator is sent to set up TOTP first.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._needs_mfa_setup(request):
            messages.warning(
                request,
                _(
                    "Staff pages require two-factor authentication. "
                    "Please set up an authenticator app first."
                ),
            )
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _needs_mfa_setup(request: HttpRequest) -> bool:
        if not request.path_info.startswith(STAFF_PATH_PREFIXES):
            return False
        user = request.user
        if not user.is_authenticated or is_mfa_enabled(user):
            return False
        # Any staff power counts, not only the is_staff flag: a role alone opens staff pages.
        return bool(
            user.is_staff
            or user.is_superuser
            or user.groups.exists()
            or user.user_permissions.exists()
        )


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
