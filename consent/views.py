"""Pages of the consent app: the opt-in after sign-up, the overview, a purpose's terms,
withdrawal, receipts, counter-assisted consent for staff, and the public privacy notice.

Thin views: they parse, check access, call one consent flow or service, and say what happened
in the words of consent.messages. Every page works as plain HTML forms, without JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from consent.flows import (
    CategoryChoice,
    counter_consent_record,
    purpose_categories_change,
    setup_step_record,
)
from consent.forms import (
    CounterAction,
    CounterConsentForm,
    PurposeChoiceForm,
    SetupAction,
    SetupStepForm,
)
from consent.messages import (
    FlashMessage,
    category_withdrawal_messages,
    counter_messages,
    purpose_choice_messages,
    purpose_withdrawal_messages,
    setup_step_messages,
)
from consent.models import ConsentEvent
from consent.pages import (
    categories_in_use,
    history_entries,
    purpose_page,
    purpose_summaries,
    setup_step_page,
    setup_steps,
    shared_by_purpose,
    withdrawal_preview,
)
from consent.privacy import privacy_notice
from consent.receipts import consent_receipt
from consent.selectors import all_current_terms, category_by_code, purpose_by_code, receipt_event
from consent.services import Actor, ConsentError, consent_withdraw
from portal.models import User

# Not reversed: the profile pages live in another module and may not be wired yet.
PROFILE_PATH = "/me/profile/"
MY_DATA_PATH = "/me/"


def _account(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User), "behind login_required"
    return user


def _tell(request: HttpRequest, flashes: Iterable[FlashMessage]) -> None:
    for flash in flashes:
        messages.add_message(request, flash.level, flash.text)


# ---------------------------------------------------------------------------------------------
# The opt-in after sign-up: one data category per step
# ---------------------------------------------------------------------------------------------


@require_GET
@login_required
def setup(request: HttpRequest) -> HttpResponse:
    steps = setup_steps()
    if not steps:
        return redirect("consent:setup_done")
    return redirect("consent:setup_step", category=steps[0].category.code)


@require_http_methods(["GET", "POST"])
@login_required
def setup_step(request: HttpRequest, category: str) -> HttpResponse:
    resident = _account(request)
    page = setup_step_page(resident_id=resident.pk, category_code=category)
    if page is None:
        raise Http404(_("Unknown data category."))
    if request.method == "POST" and request.POST.get("action") == SetupAction.SKIP:
        return redirect(page.next_url)
    form = SetupStepForm(request.POST if request.method == "POST" else None, offered=page.offered)
    if form.is_valid():
        shared, refused = form.ticked(), form.unticked()
        try:
            setup_step_record(
                resident=resident, category_code=category, shared=shared, refused=refused
            )
        except ConsentError as error:
            form.add_error(None, str(error))
        else:
            _tell(request, setup_step_messages(page.step.category, shared=shared, refused=refused))
            return redirect(page.next_url)
    return render(request, "consent/setup_step.html", page.context(form))


@require_GET
@login_required
def setup_done(request: HttpRequest) -> HttpResponse:
    resident = _account(request)
    return render(
        request,
        "consent/setup_done.html",
        {
            "shared": shared_by_purpose(resident_id=resident.pk),
            "profile_url": PROFILE_PATH,
            "my_data_url": MY_DATA_PATH,
        },
    )


# ---------------------------------------------------------------------------------------------
# Overview and history
# ---------------------------------------------------------------------------------------------


@require_GET
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    resident = _account(request)
    return render(
        request,
        "consent/overview.html",
        {
            "purposes": purpose_summaries(resident_id=resident.pk),
            "in_use": categories_in_use(resident_id=resident.pk),
            "history": history_entries(pseudonym=resident.pseudonym),
            "my_data_url": MY_DATA_PATH,
        },
    )


# ---------------------------------------------------------------------------------------------
# One purpose: its full terms, and choosing its categories (also how re-consent is given)
# ---------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def purpose_terms(request: HttpRequest, purpose: str) -> HttpResponse:
    resident = _account(request)
    page = purpose_page(resident_id=resident.pk, purpose_code=purpose)
    if page is None:
        raise Http404(_("Unknown purpose."))
    form = PurposeChoiceForm(
        request.POST if request.method == "POST" else None,
        terms=page.terms,
        categories=page.categories,
        initial={"categories": sorted(page.active)},
    )
    if form.is_valid():
        choice = CategoryChoice.between(
            active=page.active, held=page.held, ticked=set(form.cleaned_data["categories"])
        )
        try:
            outcome = purpose_categories_change(
                resident=resident,
                terms_id=form.cleaned_data["terms"],
                purpose_code=purpose,
                choice=choice,
            )
        except ConsentError as error:
            form.add_error(None, str(error))
        else:
            _tell(request, purpose_choice_messages(page.terms, choice, outcome))
            return redirect("consent:overview")
    return render(request, "consent/purpose.html", page.context(form))


# ---------------------------------------------------------------------------------------------
# Withdrawal: as easy as consent (GDPR Art. 7(3)). Granting needs a logged-in session, so
# withdrawing needs exactly that, no password: GET shows what would end and be deleted, the
# POST from that page (CSRF-protected like every POST) withdraws.
# ---------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def withdraw_purpose(request: HttpRequest, purpose: str) -> HttpResponse:
    resident = _account(request)
    purpose_row = purpose_by_code(code=purpose)
    if purpose_row is None:
        raise Http404(_("Unknown purpose."))
    if request.method == "POST":
        outcome = consent_withdraw(
            resident=resident, actor=Actor.resident(resident), purpose_code=purpose
        )
        _tell(request, purpose_withdrawal_messages(outcome, purpose_row))
        return redirect("consent:overview")
    return render(
        request,
        "consent/withdraw_confirm.html",
        {
            "purpose": purpose_row,
            "preview": withdrawal_preview(resident_id=resident.pk, purpose_code=purpose),
            "action": reverse("consent:withdraw_purpose", args=[purpose]),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def withdraw_category(request: HttpRequest, category: str) -> HttpResponse:
    resident = _account(request)
    category_row = category_by_code(code=category)
    if category_row is None:
        raise Http404(_("Unknown data category."))
    if request.method == "POST":
        outcome = consent_withdraw(
            resident=resident, actor=Actor.resident(resident), category_code=category
        )
        _tell(request, category_withdrawal_messages(outcome, category_row))
        return redirect("consent:overview")
    return render(
        request,
        "consent/withdraw_confirm.html",
        {
            "category": category_row,
            "preview": withdrawal_preview(resident_id=resident.pk, category_code=category),
            "action": reverse("consent:withdraw_category", args=[category]),
        },
    )


# ---------------------------------------------------------------------------------------------
# Receipts
# ---------------------------------------------------------------------------------------------


def _own_event_or_404(request: HttpRequest, public_id: UUID) -> ConsentEvent:
    # 404, not 403, for another resident's receipt: its existence is not revealed either.
    event = receipt_event(public_id=public_id, pseudonym=_account(request).pseudonym)
    if event is None:
        raise Http404(_("No such receipt."))
    return event


@require_GET
@login_required
def receipt_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    event = _own_event_or_404(request, public_id)
    return render(
        request,
        "consent/receipt.html",
        {"receipt": consent_receipt(event, language=get_language()), "event": event},
    )


@require_GET
@login_required
def receipt_json(request: HttpRequest, public_id: UUID) -> HttpResponse:
    event = _own_event_or_404(request, public_id)
    language = request.GET.get("lang") or get_language()
    response = JsonResponse(
        consent_receipt(event, language=language),
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
    response["Content-Disposition"] = f'inline; filename="consent-receipt-{event.public_id}.json"'
    return response


# ---------------------------------------------------------------------------------------------
# Staff: a resident's paper consent recorded at the city counter
# ---------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def counter(request: HttpRequest) -> HttpResponse:
    """Mounted only behind portal's staff gate (portal/staff/urls.py), which demands a login,
    MFA in this session and the permission consent.record_counter_consent."""
    staff = _account(request)
    form = CounterConsentForm(
        request.POST if request.method == "POST" else None, terms=all_current_terms()
    )
    if form.is_valid():
        assert form.resident is not None
        terms = form.chosen_terms()
        try:
            events = counter_consent_record(
                staff=staff,
                paper_form_reference=form.cleaned_data["paper_form_reference"],
                resident=form.resident,
                terms=terms,
                category_codes=form.chosen_categories(),
                withdraw=form.cleaned_data["action"] == CounterAction.WITHDRAW,
            )
        except ConsentError as error:
            form.add_error(None, str(error))
        else:
            _tell(
                request,
                counter_messages(
                    email=form.cleaned_data["email"], purpose=terms.purpose, events=events
                ),
            )
            return redirect("consent_staff:counter")
    return render(request, "consent/staff/counter.html", {"form": form})


# ---------------------------------------------------------------------------------------------
# The privacy notice: public, generated from the consent catalogue
# ---------------------------------------------------------------------------------------------


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "consent/privacy.html", {"notice": privacy_notice()})
