from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

STAFF_PATH_PREFIXES = ("/admin/", "/staff/")


class StaffRequireMFAMiddleware:
    """Staff pages and the admin are reachable only by accounts with MFA switched on.

    A staff member without an authenticator is sent to set up TOTP first.
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
        if not request.path.startswith(STAFF_PATH_PREFIXES):
            return False
        user = request.user
        return bool(user.is_authenticated and user.is_staff and not is_mfa_enabled(user))
