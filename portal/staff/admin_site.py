"""The admin site, behind the staff gate: the admin holds staff powers, so it needs a session
that passed two-factor authentication like every other staff page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from portal.staff.gate import staff_refusal

AdminView = Callable[..., HttpResponseBase]


class StaffAdminSite(admin.AdminSite):
    def admin_view[V: AdminView](self, view: V, cacheable: bool = False) -> V:
        """Every admin page but the login: the staff gate first, then the admin's own rule
        (the is_staff flag), refused with 403 rather than the admin's own login form."""
        admin_page = super().admin_view(view, cacheable)

        @wraps(view)
        def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            refusal = staff_refusal(request, permission=None)
            if refusal is not None:
                return refusal
            if not self.has_permission(request):
                raise PermissionDenied
            return admin_page(request, *args, **kwargs)

        return cast(V, gated)

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """allauth's login (with its 2fa step and rate limits), never Django's admin form."""
        django_login = super().login
        return cast(HttpResponse, secure_admin_login(django_login)(request, extra_context))
