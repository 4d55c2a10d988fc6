"""Pages of the consent app: the opt-in after sign-up, the overview, a purpose's terms,
withdrawal, receipts, counter-assisted consent for staff, and the public privacy notice.

Thin views: they parse, check access, call one consent flow or service, and say what happened
in the words of consent.messages. Every page works as plain HTML forms, without JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from allauth.account.adapter import get_adapter as get_account_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from consent.flows import (
    CategoryChoice,
    CounterRequest,
    counter_consent_record,
    counter_dispute_answer,
    purpose_categories_change,
    setup_step_record,
)
from consent.forms import (
    CounterConsentForm,
    CounterDisputeForm,
    DisputeResolutionForm,
    PaperFormBatchForm,
    PaperFormVoidForm,
    PurposeChoiceForm,
    SetupAction,
    SetupStepForm,
)
from consent.messages import (
    FlashMessage,
    batch_issued_message,
    category_withdrawal_messages,
    counter_messages,
    dispute_messages,
    dispute_resolved_message,
    form_voided_message,
    purpose_choice_messages,
    purpose_withdrawal_messages,
    setup_step_messages,
)
from consent.models import ConsentEvent, CounterAction
from consent.pages import (
    categories_in_use,
    history_entries,
    paper_form_rows,
    purpose_page,
    purpose_summaries,
    setup_step_page,
    setup_steps,
    shared_by_purpose,
    withdrawal_preview,
)
from consent.privacy import privacy_notice
from consent.receipts import consent_receipt
from consent.references import format_reference
from consent.selectors import (
    all_current_terms,
    category_by_code,
    counter_disputes,
    counter_events,
    data_categories,
    paper_form_batch,
    paper_form_batches,
    paper_form_recorded_for,
    purpose_by_code,
    receipt_event,
)
from consent.services import (
    Actor,
    ConsentError,
    consent_withdraw,
    counter_dispute_open,
    paper_form_batch_issue,
    paper_form_void,
)
from portal.models import User

# Not reversed: the profile pages live in another module and may not be wired yet.
PROFILE_PATH = "/me/profile/"
MY_DATA_PATH = "/me/"


def account_of(request: HttpRequest) -> User:
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
    resident = account_of(request)
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
    resident = account_of(request)
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
    resident = account_of(request)
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
    resident = account_of(request)
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
    resident = account_of(request)
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
    resident = account_of(request)
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
    event = receipt_event(public_id=public_id, pseudonym=account_of(request).pseudonym)
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


def client_ip(request: HttpRequest) -> str | None:
    # allauth's adapter knows the trusted proxies (BEHIND_PROXY), as its rate limits do.
    ip: str | None = get_account_adapter(request).get_client_ip(request)
    return ip


@require_http_methods(["GET", "POST"])
def counter(request: HttpRequest) -> HttpResponse:
    """Mounted only behind portal's staff gate (portal/staff/urls.py), which demands a login,
    MFA in this session and the permission consent.record_counter_consent."""
    staff = account_of(request)
    if staff.has_perm("consent.manage_paper_forms") or staff.has_perm(
        "portal.view_staffauditentry"
    ):
        # Whoever can see which forms matched an account must not be able to try addresses.
        raise PermissionDenied(
            _(
                "Consent officers and auditors do not record paper forms: ask a counter clerk. "
                "Seeing the register and typing forms in are kept apart."
            )
        )
    form = CounterConsentForm(
        request.POST if request.method == "POST" else None, terms=all_current_terms()
    )
    if form.is_valid():
        try:
            paper_form = counter_consent_record(
                staff=staff,
                request=CounterRequest(
                    paper_form_reference=form.cleaned_data["paper_form_reference"],
                    email=form.cleaned_data["email"],
                    terms=form.chosen_terms(),
                    category_codes=form.chosen_categories(),
                    withdraw=form.cleaned_data["action"] == CounterAction.WITHDRAW,
                ),
                ip_address=client_ip(request),
            )
        except ConsentError as error:
            form.add_error("paper_form_reference", str(error))
        else:
            _tell(request, counter_messages(paper_form=paper_form))
            return redirect("consent_staff:counter")
    return render(
        request,
        "consent/staff/counter.html",
        {"form": form, "example_reference": format_reference(settings.PAPER_FORM_PREFIX, 42)},
    )


# ---------------------------------------------------------------------------------------------
# Staff: the register of paper forms, for consent officers
# ---------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Mounted behind the staff gate with the permission consent.manage_paper_forms."""
    officer = account_of(request)
    action = request.POST.get("action") if request.method == "POST" else None
    data = request.POST if request.method == "POST" else None
    issue_form = PaperFormBatchForm(data if action == "issue" else None, prefix="issue")
    void_form = PaperFormVoidForm(data if action == "void" else None, prefix="void")
    resolve_form = DisputeResolutionForm(data if action == "resolve" else None, prefix="resolve")
    chosen = {"issue": issue_form, "void": void_form, "resolve": resolve_form}.get(action or "")
    if chosen is not None and chosen.is_valid():
        try:
            flash = _register_action(request, officer, action or "", chosen.cleaned_data)
        except ConsentError as error:
            chosen.add_error(None, str(error))
        else:
            _tell(request, [flash])
            return redirect("consent_staff:register")
    return render(
        request,
        "consent/staff/register.html",
        {
            "batches": paper_form_batches(),
            "disputes": counter_disputes(open_only=True),
            "issue_form": issue_form,
            "void_form": void_form,
            "resolve_form": resolve_form,
            "failed_action": action if chosen is not None else None,
        },
    )


def _register_action(
    request: HttpRequest, officer: User, action: str, cleaned: dict[str, Any]
) -> FlashMessage:
    ip_address = client_ip(request)
    if action == "issue":
        batch = paper_form_batch_issue(
            officer=officer,
            size=cleaned["size"],
            issued_to=cleaned["issued_to"],
            ip_address=ip_address,
        )
        return batch_issued_message(batch)
    if action == "void":
        voided = paper_form_void(
            officer=officer,
            reference=cleaned["reference"],
            reason=cleaned["reason"],
            ip_address=ip_address,
        )
        return form_voided_message(voided)
    dispute = counter_dispute_answer(
        officer=officer,
        dispute_id=cleaned["dispute"],
        resolution=cleaned["resolution"],
        ip_address=ip_address,
    )
    return dispute_resolved_message(dispute)


@require_GET
def register_batch(request: HttpRequest, number: int) -> HttpResponse:
    """One batch's references, to print on blank forms and to see which were used by whom."""
    batch = paper_form_batch(number=number)
    if batch is None:
        raise Http404(_("No such batch."))
    return render(
        request,
        "consent/staff/batch.html",
        {"batch": batch, "rows": paper_form_rows(batch=batch)},
    )


# ---------------------------------------------------------------------------------------------
# Residents: disputing a paper form recorded in their name
# ---------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def dispute(request: HttpRequest, reference: str) -> HttpResponse:
    resident = account_of(request)
    paper_form = paper_form_recorded_for(reference=reference, pseudonym=resident.pseudonym)
    if paper_form is None:  # 404 for another resident's form too: its existence is not told
        raise Http404(_("No paper form with this reference was recorded for you."))
    already = getattr(paper_form, "dispute", None)
    form = CounterDisputeForm(request.POST if request.method == "POST" and not already else None)
    if form.is_valid():
        try:
            opened = counter_dispute_open(
                resident=resident,
                reference=paper_form.reference,
                reason=form.cleaned_data["reason"],
            )
        except ConsentError as error:
            form.add_error(None, str(error))
        else:
            _tell(request, dispute_messages(opened))
            return redirect(MY_DATA_PATH)
    return render(
        request,
        "consent/dispute.html",
        {
            "paper_form": paper_form,
            "events": counter_events(paper_form=paper_form),
            "purpose": purpose_by_code(code=paper_form.purpose_code),
            "category_names": [c.name for c in data_categories(codes=paper_form.category_codes)],
            "hold_days": settings.COUNTER_WITHDRAWAL_HOLD_DAYS,
            "dispute": already,
            "form": form,
        },
    )


# ---------------------------------------------------------------------------------------------
# The privacy notice: public, generated from the consent catalogue
# ---------------------------------------------------------------------------------------------


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "consent/privacy.html", {"notice": privacy_notice()})
