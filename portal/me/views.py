"""The resident's own pages: "my data", the export, the profile form, deleting the account.

Thin views: portal.me.pages and portal.me.export build what the templates get, reading attributes
only through consent.policy.read_own_data; the forms in portal.me.forms write them through
portal.residents.services.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from consent.catalogue import Category
from consent.selectors import active_consent_count
from portal.me.export import export_document
from portal.me.forms import AccountDeleteForm, ChildAddForm, PlaceAddForm, ProfileSectionForm
from portal.me.pages import (
    SECTION_FORMS,
    Removal,
    child_removal,
    my_data_context,
    place_removal,
    profile_context,
)
from portal.models import User
from portal.residents.services import account_delete, child_remove, place_remove

# allauth's decorator is untyped upstream; it returns the view it is given, wrapped.
type ViewFunction = Callable[..., HttpResponse]
reauthenticated: Callable[[ViewFunction], ViewFunction] = reauthentication_required

EXPORT_FILENAME = "machiplus-my-data.json"


class ResidentRequest(HttpRequest):
    """A request that passed ``login_required``, annotated by django-htmx's middleware."""

    user: User
    htmx: HtmxDetails


# ------------------------------------------------------------------------------------------------
# My data
# ------------------------------------------------------------------------------------------------


@login_required
@require_GET
def my_data(request: ResidentRequest) -> HttpResponse:
    return render(request, "portal/me/data.html", my_data_context(request.user))


@login_required
@never_cache
@require_GET
def export(request: ResidentRequest) -> HttpResponse:
    """Everything stored about the logged-in resident, as one JSON download."""
    document = export_document(request.user)
    body = json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body.encode(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{EXPORT_FILENAME}"'
    return response


# ------------------------------------------------------------------------------------------------
# Profile form
# ------------------------------------------------------------------------------------------------


@login_required
@require_GET
def profile(request: ResidentRequest) -> HttpResponse:
    return _profile_page(request)


@login_required
@require_POST
def profile_section(request: ResidentRequest, section: str) -> HttpResponse:
    form_class = SECTION_FORMS.get(section)
    if form_class is None:
        raise Http404
    form = form_class(request.POST)
    if not form.store(resident_id=request.user.pk):
        return _profile_page(request, failed=form)
    messages.success(request, _("Your changes are saved."))
    return redirect(_profile_url(section))


@login_required
@require_POST
def add_place(request: ResidentRequest) -> HttpResponse:
    form = PlaceAddForm(request.POST)
    stored = form.store(resident_id=request.user.pk)
    return _list_changed(
        request, Category.PLACES, failed=None if stored else form, done=_("The place is added.")
    )


@login_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def remove_place(request: ResidentRequest, place_id: int) -> HttpResponse:
    """GET asks for confirmation, POST removes: removing takes two steps, without JavaScript too."""
    if request.method == "GET":
        return _confirm_removal(
            request, place_removal(resident_id=request.user.pk, place_id=place_id)
        )
    if not place_remove(resident_id=request.user.pk, place_id=place_id):
        raise Http404
    return _list_changed(request, Category.PLACES, done=_("The place is removed."))


@login_required
@require_POST
def add_child(request: ResidentRequest) -> HttpResponse:
    form = ChildAddForm(request.POST)
    stored = form.store(resident_id=request.user.pk)
    return _list_changed(
        request, Category.HOUSEHOLD, failed=None if stored else form, done=_("The child is added.")
    )


@login_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def remove_child(request: ResidentRequest, child_id: int) -> HttpResponse:
    """GET asks for confirmation, POST removes (as for places)."""
    if request.method == "GET":
        return _confirm_removal(
            request, child_removal(resident_id=request.user.pk, child_id=child_id)
        )
    if not child_remove(resident_id=request.user.pk, child_id=child_id):
        raise Http404
    return _list_changed(request, Category.HOUSEHOLD, done=_("The child is removed."))


def _confirm_removal(request: ResidentRequest, removal: Removal | None) -> HttpResponse:
    """A page of its own, or with htmx a step inside the list (hx-confirm's browser dialog is
    neither styled nor translated, and reads poorly with a screen reader)."""
    if removal is None:
        raise Http404
    template = "portal/me/remove_confirm.html"
    return render(request, f"{template}#step" if request.htmx else template, {"removal": removal})


def _list_changed(
    request: ResidentRequest,
    section: str,
    *,
    done: str,
    failed: ProfileSectionForm | None = None,
) -> HttpResponse:
    if request.htmx:
        # htmx swaps only 2xx responses by default: a refusal comes back as 200 too, with its
        # errors inside the swapped section.
        context = profile_context(request.user.pk, failed=failed)
        context["done"] = "" if failed else done
        return render(request, f"portal/me/profile.html#{section}", context)
    if failed is not None:
        return _profile_page(request, failed=failed)
    messages.success(request, done)
    return redirect(_profile_url(section))


def _profile_page(
    request: ResidentRequest, *, failed: ProfileSectionForm | None = None
) -> HttpResponse:
    return render(
        request,
        "portal/me/profile.html",
        profile_context(request.user.pk, failed=failed),
        status=200 if failed is None else 400,
    )


def _profile_url(section: str) -> str:
    return f"{reverse('me:profile')}#{section}"


# ------------------------------------------------------------------------------------------------
# Account deletion
# ------------------------------------------------------------------------------------------------


@login_required
@reauthenticated
@require_http_methods(["GET", "POST"])
def delete_account(request: ResidentRequest) -> HttpResponse:
    """Confirm, then erase the account. Re-authentication brings the resident back here by GET,
    or replays a suspended POST."""
    user = request.user
    form = AccountDeleteForm(request.POST if request.method == "POST" else None, user=user)
    if form.is_valid():
        account_delete(user=user)
        logout(request)
        messages.success(request, _("Your account is deleted, and your personal data with it."))
        return redirect("home")
    return render(
        request,
        "portal/me/delete.html",
        {"form": form, "active_consents": active_consent_count(resident_id=user.pk)},
        status=400 if form.is_bound else 200,
    )
