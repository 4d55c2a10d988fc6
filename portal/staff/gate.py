"""The staff gate: the one check in front of every staff page and the admin.

A request reaches a staff page only from a logged-in member of staff whose session passed
two-factor authentication (allauth records a second factor as an authentication record with
method "mfa": the login's 2fa step and allauth's MFA re-authentication both write one), and
who holds the page's permission. It is applied three ways, all through ``staff_refusal``:

- ``staff_view(permission=...)`` on every staff view, wherever the view is mounted;
- ``portal.staff.admin_site.StaffAdminSite`` around every admin view;
- ``portal.infra.middleware.StaffGateMiddleware``, a backstop for ``/staff/`` and ``/admin/``.

tests/security/test_staff_sweep.py walks the URL resolver and fails for any URL that is neither
listed as public or resident-facing nor refused by this gate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Concatenate
from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from allauth.account.authentication import get_authentication_records
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, Permission
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

# allauth's login step asks for a second factor from accounts with one of these (recovery codes
# alone never count: allauth deletes them with the last authenticator they back up).
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)
# The permission that opens the staff console.
CONSOLE_PERMISSION = "portal.access_staff_console"
# What a session may have proved its second factor with: a code from the app, a recovery code,
# or a security key (the last only where WebAuthn is switched on).
PROOF_TYPES = frozenset(
    {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES, Authenticator.Type.WEBAUTHN}
)


def has_staff_powers(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Any staff power counts, not only the is_staff flag: a role alone opens staff pages."""
    if not user.is_authenticated:
        return False
    return bool(
        user.is_staff  # type: ignore[attr-defined]
        or user.is_superuser  # type: ignore[attr-defined]
        or user.groups.exists()  # type: ignore[attr-defined]
        or user.user_permissions.exists()  # type: ignore[attr-defined]
    )


def shows_staff_console_link(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the navigation links to the staff console: the user holds its permission, by
    a role or by their own. One query (a page's every visitor asks; Django's permission check
    takes two): the console itself asks the gate as any staff page does."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:  # type: ignore[attr-defined]
        return True
    app_label, codename = CONSOLE_PERMISSION.split(".")
    held = Permission.objects.filter(codename=codename, content_type__app_label=app_label)
    return held.filter(Q(user=user) | Q(group__user=user)).exists()


def session_passed_mfa(request: HttpRequest) -> bool:
    """Did this session (for this user) prove a second factor that allauth supports?"""
    supported = PROOF_TYPES & set(mfa_settings.SUPPORTED_TYPES)
    return any(
        record.get("method") == "mfa" and record.get("type") in supported
        for record in get_authentication_records(request, request.user)
    )


def passed_mfa_within(request: HttpRequest, *, seconds: float) -> bool:
    """Did this session prove a second factor in the last ``seconds``?"""
    supported = PROOF_TYPES & set(mfa_settings.SUPPORTED_TYPES)
    since = time.time() - seconds
    return any(
        record.get("method") == "mfa"
        and record.get("type") in supported
        and float(record.get("at") or 0) >= since
        for record in get_authentication_records(request, request.user)
    )


def recent_mfa_required[**P](
    view: Callable[Concatenate[HttpRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """For pages that could outlast the second factor itself (the recovery codes): an account
    with an authenticator must have used it within ACCOUNT_REAUTHENTICATION_TIMEOUT; a recent
    password is not enough, or a password alone would read codes that stand in for the app."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or not is_mfa_enabled(user, SECOND_FACTORS):
            return view(request, *args, **kwargs)
        if passed_mfa_within(request, seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT):
            return view(request, *args, **kwargs)
        back_here = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
        return HttpResponseRedirect(f"{_mfa_reauthentication_url(request)}?{back_here}")

    return guarded


def proved_mailbox_within(request: HttpRequest, *, seconds: float) -> bool:
    """Did this session prove, in the last ``seconds``, that it reads the account's mailbox
    (allauth's log-in or re-authentication by an emailed code, to the account's address)?"""
    since = time.time() - seconds
    email = getattr(request.user, "email", "").lower()
    return any(
        record.get("method") == "code"
        and str(record.get("email") or "").lower() == email
        and float(record.get("at") or 0) >= since
        for record in get_authentication_records(request, request.user)
    )


def mailbox_proof_for_a_first_staff_authenticator[**P](
    view: Callable[Concatenate[HttpRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """A staff account's first authenticator needs a code sent to its mailbox, not a password.

    Otherwise whoever steals the password of staff who have not enrolled yet enrols their own
    app and gets every staff power the gate guards. Staff cannot change their own address
    (``staff_address_locked``), so the mailbox stays the one the city gave them.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        user = request.user
        if (
            not user.is_authenticated
            or not has_staff_powers(user)
            or is_mfa_enabled(user, SECOND_FACTORS)
            or proved_mailbox_within(request, seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT)
        ):
            return view(request, *args, **kwargs)
        messages.info(
            request,
            _(
                "Staff accounts set up their authenticator app after proving they read their "
                "city mailbox: send yourself a code."
            ),
        )
        back_here = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
        return HttpResponseRedirect(
            f"{reverse('account_request_reauthentication_code')}?{back_here}"
        )

    return guarded


def staff_address_locked[**P](
    view: Callable[Concatenate[HttpRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Staff accounts keep the address the administrators gave them: a staff member's mailbox
    is what proves who enrols the account's authenticator."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if request.method == "POST" and has_staff_powers(request.user):
            raise PermissionDenied(
                _("Staff accounts' addresses are changed by the administrators only.")
            )
        return view(request, *args, **kwargs)

    return guarded


def mfa_refusal(request: HttpRequest) -> HttpResponseRedirect | None:
    """None if this logged-in user's session passed MFA; otherwise where to go to get there.

    Without any authenticator: set one up (TOTP). With one, but not used in this session:
    allauth's MFA re-authentication, which records the second factor and then comes back here.
    """
    if not is_mfa_enabled(request.user, SECOND_FACTORS):
        messages.warning(
            request,
            _(
                "Staff pages require two-factor authentication. "
                "Please set up an authenticator app first."
            ),
        )
        return HttpResponseRedirect(reverse("mfa_activate_totp"))
    if session_passed_mfa(request):
        return None
    messages.info(
        request, _("Staff pages need a code from your authenticator once in every session.")
    )
    back_here = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
    return HttpResponseRedirect(f"{_mfa_reauthentication_url(request)}?{back_here}")


def staff_refusal(request: HttpRequest, *, permission: str | None) -> HttpResponseRedirect | None:
    """None if the request may reach a staff page that needs ``permission`` (None: any staff
    power will do); otherwise the redirect that turns it away, or PermissionDenied (403).

    The second factor is demanded before the permission is looked at, so a session with only a
    password learns nothing about what the account may do.
    """
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not has_staff_powers(user):
        raise PermissionDenied
    refusal = mfa_refusal(request)
    if refusal is not None:
        return refusal
    if permission is not None and not user.has_perm(permission):
        raise PermissionDenied
    return None


def staff_view[**P](
    *, permission: str
) -> Callable[
    [Callable[Concatenate[HttpRequest, P], HttpResponse]],
    Callable[Concatenate[HttpRequest, P], HttpResponse],
]:
    """Put a staff view behind the gate: login, MFA in this session, then ``permission``.

    Outermost, above ``require_GET`` and friends, so that nobody learns more from a staff URL
    than that it needs logging in.
    """

    def decorator(
        view: Callable[Concatenate[HttpRequest, P], HttpResponse],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        @wraps(view)
        def gated(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            refusal = staff_refusal(request, permission=permission)
            if refusal is not None:
                return refusal
            return view(request, *args, **kwargs)

        return gated

    return decorator


def _mfa_reauthentication_url(request: HttpRequest) -> str:
    # allauth lists the re-authentication pages this user can use; the MFA ones come in the
    # order of its login step (a code first, then a security key).
    methods = get_adapter(request).get_reauthentication_methods(request.user)
    for method in methods:
        if method["id"].startswith("mfa_reauthenticate"):
            return str(method["url"])
    # "mfa" was taken out of ACCOUNT_REAUTHENTICATION_METHODS: nothing can prove a second
    # factor in a running session, so staff pages stay shut rather than open.
    raise PermissionDenied
