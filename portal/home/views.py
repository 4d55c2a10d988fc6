"""The home page, its live warnings banner, and the resident's "for you" list: the whole list,
a notice opened from it, and save / not interested (forms that work without JavaScript; htmx
swaps the one notice in place)."""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from consent.selectors import terms_read_once
from portal.home import pages, services
from portal.models import User
from portal.notices.pages import reading_context


class ResidentRequest(HttpRequest):
    """A request that passed ``login_required``, annotated by django-htmx's middleware."""

    user: User
    htmx: HtmxDetails


@require_GET
@vary_on_headers("HX-Request")
def home(request: HttpRequest) -> HttpResponse:
    resident_id = request.user.pk if request.user.is_authenticated else None
    # The page reads consents a few times within milliseconds: the terms are read once. Not
    # the write of what was shown, which checks its consent afresh under the resident's lock.
    with terms_read_once():
        context = pages.home_context(resident_id=resident_id)
        context["poll_seconds"] = settings.HOME_URGENT_POLL_SECONDS
        response = render(request, "portal/home.html", context)
    if resident_id is not None:
        _count_shown(resident_id, context["for_you"], context["for_you"].first())
    return response


@require_GET
def urgent(request: HttpRequest) -> HttpResponse:
    """The banner alone, fetched by htmx every HOME_URGENT_POLL_SECONDS: a new warning for the
    resident's areas appears without a reload."""
    resident_id = request.user.pk if request.user.is_authenticated else None
    banner = pages.urgent_banner(resident_id=resident_id)
    if request.GET.get("shown") == banner.fingerprint:
        response = HttpResponse(status=204)  # htmx leaves the banner as it is
    else:
        response = render(request, "portal/home.html#urgent", {"urgent": banner})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def for_you(request: ResidentRequest) -> HttpResponse:
    """The whole stored list; htmx's "more" takes only the notices after the first ones."""
    shared = pages.shared_for_home_page(resident_id=request.user.pk)
    listing = pages.for_you(resident_id=request.user.pk, shared=shared)
    if request.htmx and not request.htmx.history_restore_request:
        _count_shown(request.user.pk, listing, listing.rest())
        return render(request, "portal/home/for_you.html#more-items", {"for_you": listing})
    _count_shown(request.user.pk, listing, listing.items)
    hidden = request.GET.get("hidden", "")
    context = {
        "for_you": listing,
        # Just set aside without JavaScript: said at the top of the list, with its "Undo".
        "hidden": pages.live_notice(notice_id=int(hidden))
        if hidden.isdigit() and int(hidden) in listing.dismissed
        else None,
    }
    return render(request, "portal/home/for_you.html", context)


@login_required
@require_GET
def for_you_notice(request: ResidentRequest, pk: int) -> HttpResponse:
    """A notice of the resident's list, which may be aimed at them alone (not public)."""
    shared = pages.shared_for_home_page(resident_id=request.user.pk)
    item = pages.for_you(resident_id=request.user.pk, shared=shared).item(pk)
    if item is None:
        raise Http404
    notice = pages.live_notice(notice_id=pk)  # with its texts, which the list leaves out
    if notice is None:
        raise Http404
    services.notice_opened(resident_id=request.user.pk, notice_id=pk)
    easy = request.GET.get("text") == "easy" and bool(notice.body_easy)
    context = reading_context(notice, easy=easy, text_url=reverse("for_you:notice", args=[pk]))
    context["entry"] = item
    return render(request, "portal/home/notice.html", context)


@login_required
@require_POST
def for_you_action(request: ResidentRequest, pk: int, action: str) -> HttpResponse:
    if action not in services.ACTIONS:
        raise Http404
    shared = pages.shared_for_home_page(resident_id=request.user.pk)
    listing = pages.for_you(resident_id=request.user.pk, shared=shared)
    item = listing.item(pk)
    # Undoing "not interested" concerns a notice already gone from the list.
    if item is None and not (action == "undismiss" and pk in listing.dismissed):
        raise Http404
    if action == "dismiss" and item is not None and item.urgent:
        messages.error(request, _("A warning cannot be hidden while it is in force."))
        return redirect(_back_to(request))
    outcome = services.feed_action(resident_id=request.user.pk, notice_id=pk, action=action)
    message = _outcome_message(outcome)
    if request.htmx:
        if item is not None and outcome.stored and action in ("save", "unsave"):
            item = replace(item, saved=action == "save")
        return render(
            request,
            "portal/home/_action_result.html",
            {
                "entry": item,
                "restored": pages.live_notice(notice_id=pk) if action == "undismiss" else None,
                "outcome": outcome,
                "message": message,
                "notice_id": pk,
                "from": request.POST.get("from", "home"),
                "may_keep_history": listing.may_keep_history,
            },
        )
    if outcome.stored and action == "dismiss":
        # Without JavaScript: the whole list, with what was hidden and its "Undo" at the top.
        return redirect(f"{reverse('for_you:list')}?hidden={pk}")
    (messages.success if outcome.stored else messages.error)(request, message)
    return redirect(_back_to(request))


def _outcome_message(outcome: services.FeedActionOutcome) -> str:
    if not outcome.stored:
        return _(
            "Nothing was changed: you do not share your history on this site for your home "
            "page, so it cannot be kept. You can choose to share it on the consents page."
        )
    return {
        "save": _("Saved. It stays marked on your home page."),
        "unsave": _("No longer saved."),
        "dismiss": _("Hidden. You will not see this notice on your home page again."),
        "undismiss": _("It may appear on your home page again."),
    }[outcome.action]


def _back_to(request: ResidentRequest) -> str:
    """Back to the list the form was on: the home page or the whole list."""
    return reverse("for_you:list") if request.POST.get("from") == "list" else reverse("home")


def _count_shown(resident_id: int, listing: pages.ForYou, items: list[pages.HomeItem]) -> None:
    # Kept only for a resident who shares their history here: no write for the others.
    if items and listing.may_keep_history:
        services.notices_shown(
            resident_id=resident_id, notice_ids=[item.notice.pk for item in items]
        )
