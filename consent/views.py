"""Pages of the consent app: the opt-in after sign-up, the overview, a purpose's terms,
withdrawal, receipts, and counter-assisted consent for staff.

Thin views: they parse, check access, call the consent services and say what happened.
Every page works as plain HTML forms, without JavaScript.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import cast
from uuid import UUID

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from consent.forms import (
    CounterAction,
    CounterConsentForm,
    PurposeChoiceForm,
    SetupAction,
    SetupStepForm,
)
from consent.models import (
    ConsentEvent,
    ConsentStatus,
    ConsentTerms,
    DataCategory,
    Purpose,
    Recipient,
)
from consent.receipts import consent_receipt
from consent.selectors import (
    ConsentRow,
    active_purposes_by_category,
    all_current_terms,
    consent_overview,
    current_terms,
    ledger_history,
    receipt_event,
    states_of,
)
from consent.services import (
    Actor,
    ConsentError,
    WithdrawalOutcome,
    consent_grant,
    consent_refuse,
    consent_withdraw,
)
from portal.models import User

View = Callable[..., HttpResponse]

# Not reversed: the profile pages live in another module and may not be wired yet.
PROFILE_PATH = "/me/profile/"
MY_DATA_PATH = "/me/"


def _reauthenticated(view: View) -> View:
    """allauth's ``reauthentication_required`` (untyped upstream), typed for this module.

    Without a recent password (or code) the wrapped view raises ReauthenticationRequired;
    allauth's middleware then asks for it and afterwards replays the suspended request.
    """
    return cast(View, reauthentication_required(view))


def _no_content(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=204)


# A POST that mixes grants with withdrawals asks for re-authentication only when it withdraws:
# calling this raises ReauthenticationRequired unless the resident re-authenticated recently.
_check_recent_authentication = _reauthenticated(_no_content)


def _account(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User), "behind login_required"
    return user


# ---------------------------------------------------------------------------------------------
# The opt-in after sign-up: one data category per step
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupStep:
    category: DataCategory
    covering: list[ConsentTerms]  # current terms of every purpose that asks for it


@dataclass(frozen=True)
class TermsDisclosure:
    """What the city must say before asking: purpose, recipients, retention, withdrawal."""

    terms: ConsentTerms
    recipients: list[Recipient]


def _setup_steps() -> list[SetupStep]:
    """Every data category some purpose asks for, in catalogue order."""
    current = all_current_terms()
    steps = []
    for category in DataCategory.objects.order_by("position"):
        covering = [t for t in current if category.code in t.category_codes]
        if covering:
            steps.append(SetupStep(category=category, covering=covering))
    return steps


def _disclosures(terms: Iterable[ConsentTerms]) -> list[TermsDisclosure]:
    recipients = {r.code: r for r in Recipient.objects.all()}
    return [
        TermsDisclosure(
            terms=t, recipients=[recipients[code] for code in sorted(t.recipient_codes)]
        )
        for t in terms
    ]


@require_GET
@login_required
def setup(request: HttpRequest) -> HttpResponse:
    steps = _setup_steps()
    if not steps:
        return redirect("consent:setup_done")
    return redirect("consent:setup_step", category=steps[0].category.code)


@require_http_methods(["GET", "POST"])
@login_required
def setup_step(request: HttpRequest, category: str) -> HttpResponse:
    resident = _account(request)
    steps = _setup_steps()
    index = next((i for i, step in enumerate(steps) if step.category.code == category), None)
    if index is None:
        raise Http404(_("Unknown data category."))
    step = steps[index]
    next_url = (
        reverse("consent:setup_step", args=[steps[index + 1].category.code])
        if index + 1 < len(steps)
        else reverse("consent:setup_done")
    )
    # Purposes already using this category are not asked again: leaving them unticked here
    # would silently end them. They are changed on the purpose page, with re-authentication.
    using = set(active_purposes_by_category(resident_id=resident.pk).get(category, []))
    offered = [t for t in step.covering if t.purpose.code not in using]
    already = [t for t in step.covering if t.purpose.code in using]

    if request.method == "POST" and request.POST.get("action") == SetupAction.SKIP:
        return redirect(next_url)
    form = SetupStepForm(request.POST if request.method == "POST" else None, offered=offered)
    if form.is_valid():
        try:
            with transaction.atomic():
                for terms in form.ticked():
                    consent_grant(
                        resident=resident,
                        terms_id=terms.pk,
                        category_codes=[category],
                        actor=Actor.resident(resident),
                    )
                for terms in form.unticked():
                    consent_refuse(
                        resident=resident,
                        terms_id=terms.pk,
                        category_codes=[category],
                        actor=Actor.resident(resident),
                    )
        except ConsentError as error:
            form.add_error(None, str(error))
        else:
            _report_step(request, step.category, shared=form.ticked(), refused=form.unticked())
            return redirect(next_url)
    return render(
        request,
        "consent/setup_step.html",
        {
            "step": step,
            "number": index + 1,
            "total": len(steps),
            "form": form,
            "options": list(zip(form["purposes"], _disclosures(offered), strict=True)),
            "already": already,
            "next_url": next_url,
        },
    )


def _report_step(
    request: HttpRequest,
    category: DataCategory,
    *,
    shared: Sequence[ConsentTerms],
    refused: Sequence[ConsentTerms],
) -> None:
    if shared:
        messages.success(
            request,
            _("Your %(category)s will be used for: %(purposes)s.")
            % {"category": _quoted([category.name]), "purposes": _quoted(_names(shared))},
        )
    if refused:
        messages.info(
            request,
            _("Your %(category)s will not be used for: %(purposes)s.")
            % {"category": _quoted([category.name]), "purposes": _quoted(_names(refused))},
        )


@require_GET
@login_required
def setup_done(request: HttpRequest) -> HttpResponse:
    resident = _account(request)
    shared = [
        (terms, [row.category for row in rows if row.active])
        for terms, rows in consent_overview(resident_id=resident.pk)
    ]
    return render(
        request,
        "consent/setup_done.html",
        {
            "shared": [(terms, categories) for terms, categories in shared if categories],
            "profile_url": PROFILE_PATH,
            "my_data_url": MY_DATA_PATH,
        },
    )


# ---------------------------------------------------------------------------------------------
# Overview and history
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryState:
    """One category of one purpose as the resident should read it."""

    row: ConsentRow
    state: str
    label: str
    badge: str


@dataclass(frozen=True)
class PurposeSummary:
    terms: ConsentTerms
    categories: list[CategoryState]
    withdrawable: bool


@dataclass(frozen=True)
class CategoryUse:
    category: DataCategory
    purposes: list[Purpose]


@dataclass(frozen=True)
class HistoryEntry:
    event: ConsentEvent
    purpose: Purpose
    categories: list[str]


def _category_state(row: ConsentRow) -> CategoryState:
    if row.needs_reconsent:
        state, label, badge = "needs_reconsent", _("needs your agreement again"), "warning"
    elif row.active:
        state, label, badge = "shared", _("shared"), "success"
    elif row.status in (ConsentStatus.GRANTED, ConsentStatus.EXPIRED):
        state, label, badge = "expired", _("expired"), "warning"
    elif row.status == ConsentStatus.REFUSED:
        state, label, badge = "refused", _("not shared (you said no)"), ""
    elif row.status == ConsentStatus.WITHDRAWN:
        state, label, badge = "withdrawn", _("withdrawn"), ""
    else:
        state, label, badge = "never_asked", _("never asked"), ""
    return CategoryState(row=row, state=state, label=label, badge=badge)


@require_GET
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    resident = _account(request)
    purposes = [
        PurposeSummary(
            terms=terms,
            categories=[
                _category_state(row) for row in sorted(rows, key=lambda r: r.category.position)
            ],
            withdrawable=any(row.status == ConsentStatus.GRANTED for row in rows),
        )
        for terms, rows in consent_overview(resident_id=resident.pk)
    ]
    granted: dict[str, list[Purpose]] = defaultdict(list)
    category_rows: dict[str, DataCategory] = {}
    for state in states_of(resident_id=resident.pk).filter(status=ConsentStatus.GRANTED):
        granted[state.category.code].append(state.purpose)
        category_rows[state.category.code] = state.category
    in_use = sorted(
        (CategoryUse(category=category_rows[code], purposes=ps) for code, ps in granted.items()),
        key=lambda use: use.category.position,
    )
    return render(
        request,
        "consent/overview.html",
        {
            "purposes": purposes,
            "in_use": in_use,
            "history": _history(resident),
            "my_data_url": MY_DATA_PATH,
        },
    )


def _history(resident: User) -> list[HistoryEntry]:
    names = {c.code: c.name for c in DataCategory.objects.all()}
    return [
        HistoryEntry(
            event=event,
            purpose=event.terms.purpose,
            categories=[names.get(code, code) for code in event.category_codes],
        )
        for event in ledger_history(pseudonym=resident.pseudonym)
    ]


# ---------------------------------------------------------------------------------------------
# One purpose: its full terms, and choosing its categories (also how re-consent is given)
# ---------------------------------------------------------------------------------------------


def _current_terms_or_404(purpose_code: str) -> ConsentTerms:
    terms = current_terms(purpose_code=purpose_code)
    if terms is None:
        raise Http404(_("Unknown purpose."))
    return terms


@require_http_methods(["GET", "POST"])
@login_required
def purpose_terms(request: HttpRequest, purpose: str) -> HttpResponse:
    resident = _account(request)
    terms = _current_terms_or_404(purpose)
    categories = list(
        DataCategory.objects.filter(code__in=terms.category_codes).order_by("position")
    )
    rows = next(
        (rows for t, rows in consent_overview(resident_id=resident.pk) if t.pk == terms.pk), []
    )
    active = {row.category.code for row in rows if row.active}
    form = PurposeChoiceForm(
        request.POST if request.method == "POST" else None,
        terms=terms,
        categories=categories,
        initial={"categories": sorted(active)},
    )
    if form.is_valid():
        ticked = set(form.cleaned_data["categories"])
        to_grant = sorted(ticked - active)
        to_withdraw = sorted(active - ticked)
        if to_withdraw:
            _check_recent_authentication(request)
        try:
            with transaction.atomic():
                if to_grant:
                    consent_grant(
                        resident=resident,
                        terms_id=form.cleaned_data["terms"],
                        category_codes=to_grant,
                        actor=Actor.resident(resident),
                    )
                outcomes = [
                    consent_withdraw(
                        resident=resident,
                        actor=Actor.resident(resident),
                        purpose_code=purpose,
                        category_code=code,
                    )
                    for code in to_withdraw
                ]
        except ConsentError as error:
            form.add_error(None, str(error))
        else:
            if to_grant:
                messages.success(
                    request,
                    _("%(purpose)s now uses your %(categories)s.")
                    % {
                        "purpose": _quoted([terms.purpose.name]),
                        "categories": _quoted(_category_names(to_grant)),
                    },
                )
            if to_withdraw:
                _report_withdrawal(request, _merged(outcomes), nothing="")
            if not to_grant and not to_withdraw:
                messages.info(request, _("Nothing changed."))
            return redirect("consent:overview")
    return render(
        request,
        "consent/purpose.html",
        {
            "terms": terms,
            "disclosure": _disclosures([terms])[0],
            "categories": categories,
            "form": form,
            "reconsent": [row.category for row in rows if row.needs_reconsent],
        },
    )


# ---------------------------------------------------------------------------------------------
# Withdrawal: one click per purpose or category, with re-authentication
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WithdrawalPreview:
    """One category a withdrawal would touch, and whether its data would be kept."""

    category: DataCategory
    purpose: Purpose
    kept_for: list[Purpose]


def _preview(
    resident: User, *, purpose_code: str | None, category_code: str | None
) -> list[WithdrawalPreview]:
    states = states_of(resident_id=resident.pk).filter(status=ConsentStatus.GRANTED)
    if purpose_code is not None:
        states = states.filter(purpose__code=purpose_code)
    if category_code is not None:
        states = states.filter(category__code=category_code)
    using = active_purposes_by_category(resident_id=resident.pk)
    purposes = {p.code: p for p in Purpose.objects.all()}
    return [
        WithdrawalPreview(
            category=state.category,
            purpose=state.purpose,
            kept_for=[
                purposes[code]
                for code in using.get(state.category.code, [])
                if code != state.purpose.code and category_code is None
            ],
        )
        for state in states.order_by("purpose__position", "category__position")
    ]


@require_http_methods(["GET", "POST"])
@login_required
@_reauthenticated
def withdraw_purpose(request: HttpRequest, purpose: str) -> HttpResponse:
    resident = _account(request)
    purpose_row = Purpose.objects.filter(code=purpose).first()
    if purpose_row is None:
        raise Http404(_("Unknown purpose."))
    if request.method == "POST":
        outcome = consent_withdraw(
            resident=resident, actor=Actor.resident(resident), purpose_code=purpose
        )
        _report_withdrawal(
            request,
            outcome,
            nothing=_("You had no active consent for %(purpose)s: nothing was withdrawn.")
            % {"purpose": _quoted([purpose_row.name])},
        )
        return redirect("consent:overview")
    return render(
        request,
        "consent/withdraw_confirm.html",
        {
            "purpose": purpose_row,
            "preview": _preview(resident, purpose_code=purpose, category_code=None),
            "action": reverse("consent:withdraw_purpose", args=[purpose]),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@_reauthenticated
def withdraw_category(request: HttpRequest, category: str) -> HttpResponse:
    resident = _account(request)
    category_row = DataCategory.objects.filter(code=category).first()
    if category_row is None:
        raise Http404(_("Unknown data category."))
    if request.method == "POST":
        outcome = consent_withdraw(
            resident=resident, actor=Actor.resident(resident), category_code=category
        )
        _report_withdrawal(
            request,
            outcome,
            nothing=_("No purpose was using your %(category)s: nothing was withdrawn.")
            % {"category": _quoted([category_row.name])},
        )
        return redirect("consent:overview")
    return render(
        request,
        "consent/withdraw_confirm.html",
        {
            "category": category_row,
            "preview": _preview(resident, purpose_code=None, category_code=category),
            "action": reverse("consent:withdraw_category", args=[category]),
        },
    )


def _merged(outcomes: Sequence[WithdrawalOutcome]) -> WithdrawalOutcome:
    """One outcome for the withdrawal of several categories, one by one, in one transaction."""
    erased = frozenset().union(*(o.erased for o in outcomes))
    kept: dict[str, list[str]] = {}
    for outcome in outcomes:
        kept.update(outcome.kept)
    return WithdrawalOutcome(
        events=[e for o in outcomes for e in o.events],
        withdrawn=[pair for o in outcomes for pair in o.withdrawn],
        erased=erased,
        kept={code: ps for code, ps in kept.items() if code not in erased},
    )


def _report_withdrawal(request: HttpRequest, outcome: WithdrawalOutcome, *, nothing: str) -> None:
    """Tell the resident exactly what a withdrawal did: ended, deleted, kept and why."""
    for message in withdrawal_messages(outcome) or ([nothing] if nothing else []):
        messages.success(request, message)


def withdrawal_messages(outcome: WithdrawalOutcome) -> list[str]:
    """One sentence per fact: what ended, what was deleted, what was kept and for whom."""
    if not outcome.withdrawn:
        return []
    purposes = {p.code: p.name for p in Purpose.objects.all()}
    by_purpose: dict[str, list[str]] = defaultdict(list)
    for purpose_code, category_code in outcome.withdrawn:
        by_purpose[purpose_code].append(category_code)
    lines = [
        _("Withdrawn: %(purpose)s no longer uses your %(categories)s.")
        % {
            "purpose": _quoted([purposes.get(code, code)]),
            "categories": _quoted(_category_names(codes)),
        }
        for code, codes in by_purpose.items()
    ]
    if outcome.erased:
        lines.append(
            _("Deleted: your %(categories)s, because no purpose uses them any more.")
            % {"categories": _quoted(_category_names(outcome.erased))}
        )
    for category_code, still in sorted(outcome.kept.items()):
        lines.append(
            ngettext(
                "Kept: your %(category)s, because %(purposes)s still uses them.",
                "Kept: your %(category)s, because %(purposes)s still use them.",
                len(still),
            )
            % {
                "category": _quoted(_category_names([category_code])),
                "purposes": _quoted([purposes.get(code, code) for code in still]),
            }
        )
    return lines


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
@login_required
@permission_required("consent.record_counter_consent", raise_exception=True)
def counter(request: HttpRequest) -> HttpResponse:
    staff = _account(request)
    form = CounterConsentForm(
        request.POST if request.method == "POST" else None, terms=all_current_terms()
    )
    if form.is_valid():
        assert form.resident is not None
        try:
            actor = Actor.counter_staff(
                staff, paper_form_reference=form.cleaned_data["paper_form_reference"]
            )
            events = _record_counter(form, resident=form.resident, actor=actor)
        except ConsentError as error:
            form.add_error(None, str(error))
        else:
            _report_counter(request, form, events)
            return redirect("consent_staff:counter")
    return render(request, "consent/staff/counter.html", {"form": form})


def _record_counter(
    form: CounterConsentForm, *, resident: User, actor: Actor
) -> list[ConsentEvent]:
    terms = form.chosen_terms()
    codes = form.chosen_categories()
    if form.cleaned_data["action"] == CounterAction.GRANT:
        return [
            consent_grant(resident=resident, terms_id=terms.pk, category_codes=codes, actor=actor)
        ]
    with transaction.atomic():
        outcomes = [
            consent_withdraw(
                resident=resident,
                actor=actor,
                purpose_code=terms.purpose.code,
                category_code=code,
            )
            for code in codes
        ]
    return [event for outcome in outcomes for event in outcome.events]


def _report_counter(
    request: HttpRequest, form: CounterConsentForm, events: Sequence[ConsentEvent]
) -> None:
    email = form.cleaned_data["email"]
    purpose_name = form.chosen_terms().purpose.name
    if not events:
        messages.info(
            request,
            _(
                "Nothing was recorded: %(email)s had no active consent for these categories "
                "under %(purpose)s."
            )
            % {"email": email, "purpose": _quoted([purpose_name])},
        )
        return
    receipts = ", ".join(str(event.public_id) for event in events)
    messages.success(
        request,
        ngettext(
            "Recorded for %(email)s (%(purpose)s, paper form %(reference)s). "
            "Receipt: %(receipts)s.",
            "Recorded for %(email)s (%(purpose)s, paper form %(reference)s). "
            "Receipts: %(receipts)s.",
            len(events),
        )
        % {
            "email": email,
            "purpose": _quoted([purpose_name]),
            "reference": events[0].paper_form_reference,
            "receipts": receipts,
        },
    )


# ---------------------------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------------------------


def _quoted(names: Iterable[str]) -> str:
    # Quotation marks and list separators differ between Japanese (「」、) and English.
    return _(", ").join(_("“%(name)s”") % {"name": name} for name in names)


def _names(terms: Iterable[ConsentTerms]) -> list[str]:
    return [t.purpose.name for t in terms]


def _category_names(codes: Iterable[str]) -> list[str]:
    categories = DataCategory.objects.filter(code__in=list(codes)).order_by("position")
    return [c.name for c in categories]
