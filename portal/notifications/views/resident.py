"""The resident's notification pages. Thin: forms parse, services write, every form posts and
redirects and works without JavaScript; the push button alone needs it (a browser subscribes
to push only through script)."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent import policy
from consent.catalogue import Category, PurposeCode, RecipientCode
from portal.models import User
from portal.notifications.forms import PreferencesForm, WebhookForm, push_is_offered
from portal.notifications.models import Channel
from portal.notifications.selectors import means_of, readiness_of
from portal.notifications.services import (
    channel_unsubscribe,
    preferences_of,
    push_subscribe,
    push_unsubscribe,
    webhook_new_secret,
    webhook_remove,
    webhook_set,
)
from portal.notifications.tokens import BadToken, read_unsubscribe_token


class ResidentRequest(HttpRequest):
    """A request that passed ``login_required``."""

    user: User


SERVICE_WORKER = Path(settings.BASE_DIR) / "static" / "notifications" / "service-worker.js"
# A push subscription as a browser sends it is a few hundred bytes.
MAX_SUBSCRIPTION_BYTES = 4096


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: ResidentRequest) -> HttpResponse:
    resident_id = request.user.pk
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.store(resident_id=resident_id):
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notifications:preferences")
        return _page(request, form=form, status=400)
    return _page(request, form=PreferencesForm.of(preferences_of(resident_id=resident_id)))


def _page(
    request: ResidentRequest,
    *,
    form: PreferencesForm,
    webhook_form: WebhookForm | None = None,
    new_secret: str | None = None,
    status: int = 200,
) -> HttpResponse:
    resident_id = request.user.pk
    means = means_of(resident_id=resident_id)
    preference = preferences_of(resident_id=resident_id)
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "means": means,
            "webhook_form": webhook_form
            or WebhookForm(initial={"url": means.webhook.url if means.webhook else ""}),
            "new_secret": new_secret,
            # Whether warnings can reach them at all: a note links to the consent page if not.
            "shares_places": Category.PLACES
            in policy.allowed_categories(
                resident_id=resident_id,
                purpose=PurposeCode.DISASTER_WARNINGS,
                recipient=RecipientCode.CITY,
            ),
            "push_key": settings.VAPID_PUBLIC_KEY if push_is_offered() else "",
            "readiness": readiness_of(preference, means),
        },
        status=status,
    )


# ------------------------------------------------------------------------------------------------
# The messaging gateway
# ------------------------------------------------------------------------------------------------


@login_required
@require_POST
def webhook(request: ResidentRequest) -> HttpResponse:
    form = WebhookForm(request.POST)
    resident_id = request.user.pk
    if form.is_valid():
        try:
            _endpoint, secret = webhook_set(resident_id=resident_id, url=form.cleaned_data["url"])
        except ValidationError as refusal:
            form.add_error("url", refusal.messages)
        else:
            messages.success(request, _("Your messaging gateway is saved."))
            if secret is not None:
                return _with_secret(request, secret)
            return redirect(reverse("notifications:preferences") + "#webhook")
    form_page = PreferencesForm.of(preferences_of(resident_id=resident_id))
    return _page(request, form=form_page, webhook_form=form, status=400)


@login_required
@require_POST
def webhook_secret(request: ResidentRequest) -> HttpResponse:
    try:
        secret = webhook_new_secret(resident_id=request.user.pk)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
        return redirect(reverse("notifications:preferences") + "#webhook")
    messages.success(request, _("A new signing secret is made: the old one no longer signs."))
    return _with_secret(request, secret)


def _with_secret(request: ResidentRequest, secret: str) -> HttpResponse:
    """The page with the signing secret shown this once (it is never shown again)."""
    form = PreferencesForm.of(preferences_of(resident_id=request.user.pk))
    return _page(request, form=form, new_secret=secret)


@login_required
@require_POST
def webhook_delete(request: ResidentRequest) -> HttpResponse:
    if webhook_remove(resident_id=request.user.pk):
        messages.success(request, _("Your messaging gateway is removed."))
    return redirect(reverse("notifications:preferences") + "#webhook")


# ------------------------------------------------------------------------------------------------
# Web Push
# ------------------------------------------------------------------------------------------------


@login_required
@require_POST
def push_subscription(request: ResidentRequest) -> JsonResponse:
    """The subscribe button's script posts the browser's subscription here (JSON)."""
    if len(request.body) > MAX_SUBSCRIPTION_BYTES:
        return JsonResponse({"error": _("The subscription is too large.")}, status=400)
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return JsonResponse({"error": _("The subscription is not JSON.")}, status=400)
    try:
        push_subscribe(resident_id=request.user.pk, subscription=data)
    except ValidationError as refusal:
        return JsonResponse({"error": " ".join(refusal.messages)}, status=400)
    return JsonResponse({"ok": True}, status=201)


@login_required
@require_POST
def push_delete(request: ResidentRequest) -> HttpResponse:
    endpoint = request.POST.get("endpoint", "")
    if push_unsubscribe(resident_id=request.user.pk, endpoint=endpoint):
        messages.success(request, _("This device gets no more push notifications."))
    return redirect(reverse("notifications:preferences") + "#push")


@require_GET
@cache_control(max_age=0, no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from the site's root path so that it may show notifications for every page."""
    return HttpResponse(
        SERVICE_WORKER.read_text(encoding="utf-8"), content_type="text/javascript; charset=utf-8"
    )


# ------------------------------------------------------------------------------------------------
# One-click unsubscribe (RFC 8058): works without logging in
# ------------------------------------------------------------------------------------------------


@csrf_exempt  # a mail client posts it, with the signed token as its only credential
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (link checkers and mail scanners fetch links: a GET changes nothing); POST,
    from the page's button or a mail client's one-click, unsubscribes."""
    try:
        channel = read_unsubscribe_token(token).channel
    except BadToken:
        return render(request, "notifications/unsubscribe_invalid.html", status=400)
    if channel not in Channel.values:
        raise Http404
    if request.method == "POST":
        channel_unsubscribe(token=token)
        return render(
            request,
            "notifications/unsubscribed.html",
            {"channel": Channel(channel).label},
        )
    return render(
        request,
        "notifications/unsubscribe.html",
        {"channel": Channel(channel).label, "token": token},
    )
