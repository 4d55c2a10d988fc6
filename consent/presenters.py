"""What the consent pages show: consent states, ledger history and disclosures turned into
page models, and what a change did turned into sentences for the resident.

Reads only (through consent.selectors); the changes themselves are in consent.services and
consent.flows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.contrib import messages
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from consent.models import (
    ConsentEvent,
    ConsentStatus,
    ConsentTerms,
    DataCategory,
    Purpose,
    Recipient,
)
from consent.selectors import (
    ConsentRow,
    active_purposes_by_category,
    all_current_terms,
    consent_overview,
    current_terms,
    data_categories,
    granted_states,
    ledger_history,
    purposes_by_code,
    recipients_by_code,
)

if TYPE_CHECKING:
    from consent.flows import CategoryChoice
    from consent.forms import PurposeChoiceForm, SetupStepForm
    from consent.services import WithdrawalOutcome


@dataclass(frozen=True)
class Notice:
    """One sentence to flash after a change, at its django.contrib.messages level."""

    level: int
    text: str


@dataclass(frozen=True)
class TermsDisclosure:
    """What the city must say before asking: purpose, recipients, retention, withdrawal."""

    terms: ConsentTerms
    recipients: list[Recipient]


def _disclosures(terms: Iterable[ConsentTerms]) -> list[TermsDisclosure]:
    recipients = recipients_by_code()
    return [
        TermsDisclosure(
            terms=t, recipients=[recipients[code] for code in sorted(t.recipient_codes)]
        )
        for t in terms
    ]


# ---------------------------------------------------------------------------------------------
# The opt-in after sign-up: one data category per step
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupStep:
    category: DataCategory
    covering: list[ConsentTerms]  # current terms of every purpose that asks for it


def setup_steps() -> list[SetupStep]:
    """Every data category some purpose asks for, in catalogue order."""
    current = all_current_terms()
    steps = []
    for category in data_categories():
        covering = [t for t in current if category.code in t.category_codes]
        if covering:
            steps.append(SetupStep(category=category, covering=covering))
    return steps


@dataclass(frozen=True)
class SetupStepPage:
    step: SetupStep
    number: int
    total: int
    next_url: str
    offered: list[ConsentTerms]
    already: list[ConsentTerms]

    def context(self, form: SetupStepForm) -> dict[str, object]:
        return {
            "step": self.step,
            "number": self.number,
            "total": self.total,
            "form": form,
            "options": list(zip(form["purposes"], _disclosures(self.offered), strict=True)),
            "already": self.already,
            "next_url": self.next_url,
        }


def setup_step_page(*, resident_id: int, category_code: str) -> SetupStepPage | None:
    """The step asking about this category, or None if no purpose asks for it."""
    steps = setup_steps()
    index = next((i for i, step in enumerate(steps) if step.category.code == category_code), None)
    if index is None:
        return None
    step = steps[index]
    next_url = (
        reverse("consent:setup_step", args=[steps[index + 1].category.code])
        if index + 1 < len(steps)
        else reverse("consent:setup_done")
    )
    # Purposes already using this category are not asked again: leaving them unticked here
    # would silently end them. They are changed on the purpose page, with re-authentication.
    using = set(active_purposes_by_category(resident_id=resident_id).get(category_code, []))
    return SetupStepPage(
        step=step,
        number=index + 1,
        total=len(steps),
        next_url=next_url,
        offered=[t for t in step.covering if t.purpose.code not in using],
        already=[t for t in step.covering if t.purpose.code in using],
    )


def setup_step_notices(
    category: DataCategory, *, shared: Sequence[ConsentTerms], refused: Sequence[ConsentTerms]
) -> list[Notice]:
    notices = []
    if shared:
        notices.append(
            Notice(
                messages.SUCCESS,
                _("Your %(category)s will be used for: %(purposes)s.")
                % {"category": _quoted([category.name]), "purposes": _quoted(_names(shared))},
            )
        )
    if refused:
        notices.append(
            Notice(
                messages.INFO,
                _("Your %(category)s will not be used for: %(purposes)s.")
                % {"category": _quoted([category.name]), "purposes": _quoted(_names(refused))},
            )
        )
    return notices


def shared_by_purpose(*, resident_id: int) -> list[tuple[ConsentTerms, list[DataCategory]]]:
    """Each purpose's current terms with the categories it uses now; purposes using none
    are left out."""
    shared = [
        (terms, [row.category for row in rows if row.active])
        for terms, rows in consent_overview(resident_id=resident_id)
    ]
    return [(terms, categories) for terms, categories in shared if categories]


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


def purpose_summaries(*, resident_id: int) -> list[PurposeSummary]:
    return [
        PurposeSummary(
            terms=terms,
            categories=[
                _category_state(row) for row in sorted(rows, key=lambda r: r.category.position)
            ],
            withdrawable=any(row.status == ConsentStatus.GRANTED for row in rows),
        )
        for terms, rows in consent_overview(resident_id=resident_id)
    ]


def categories_in_use(*, resident_id: int) -> list[CategoryUse]:
    """Each category with a granted consent, and the purposes it is granted for."""
    granted: dict[str, list[Purpose]] = defaultdict(list)
    category_rows: dict[str, DataCategory] = {}
    for state in granted_states(resident_id=resident_id):
        granted[state.category.code].append(state.purpose)
        category_rows[state.category.code] = state.category
    return sorted(
        (CategoryUse(category=category_rows[code], purposes=ps) for code, ps in granted.items()),
        key=lambda use: use.category.position,
    )


def history_entries(*, pseudonym: UUID) -> list[HistoryEntry]:
    names = {c.code: c.name for c in data_categories()}
    return [
        HistoryEntry(
            event=event,
            purpose=event.terms.purpose,
            categories=[names.get(code, code) for code in event.category_codes],
        )
        for event in ledger_history(pseudonym=pseudonym)
    ]


# ---------------------------------------------------------------------------------------------
# One purpose: its full terms, and choosing its categories (also how re-consent is given)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurposePage:
    terms: ConsentTerms
    categories: list[DataCategory]
    rows: list[ConsentRow]
    active: set[str]  # codes of the categories the purpose uses now
    # ...and those granted under replaced terms: unticking one of them withdraws it too.
    held: set[str]

    def context(self, form: PurposeChoiceForm) -> dict[str, object]:
        return {
            "terms": self.terms,
            "disclosure": _disclosures([self.terms])[0],
            "categories": self.categories,
            "form": form,
            "reconsent": [row.category for row in self.rows if row.needs_reconsent],
        }


def purpose_page(*, resident_id: int, purpose_code: str) -> PurposePage | None:
    """The purpose's current terms and where the resident stands; None for no such purpose."""
    terms = current_terms(purpose_code=purpose_code)
    if terms is None:
        return None
    rows = next(
        (rows for t, rows in consent_overview(resident_id=resident_id) if t.pk == terms.pk), []
    )
    return PurposePage(
        terms=terms,
        categories=list(data_categories(codes=terms.category_codes)),
        rows=rows,
        active={row.category.code for row in rows if row.active},
        held={row.category.code for row in rows if row.active or row.needs_reconsent},
    )


def purpose_choice_notices(
    terms: ConsentTerms, choice: CategoryChoice, outcome: WithdrawalOutcome
) -> list[Notice]:
    notices = []
    if choice.to_grant:
        notices.append(
            Notice(
                messages.SUCCESS,
                _("%(purpose)s now uses your %(categories)s.")
                % {
                    "purpose": _quoted([terms.purpose.name]),
                    "categories": _quoted(_category_names(choice.to_grant)),
                },
            )
        )
    if choice.to_withdraw:
        notices += [Notice(messages.SUCCESS, text) for text in withdrawal_messages(outcome)]
    if not choice.to_grant and not choice.to_withdraw:
        notices.append(Notice(messages.INFO, _("Nothing changed.")))
    return notices


# ---------------------------------------------------------------------------------------------
# Withdrawal
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WithdrawalPreview:
    """One category a withdrawal would touch, and whether its data would be kept."""

    category: DataCategory
    purpose: Purpose
    kept_for: list[Purpose]


def withdrawal_preview(
    *, resident_id: int, purpose_code: str | None = None, category_code: str | None = None
) -> list[WithdrawalPreview]:
    states = granted_states(
        resident_id=resident_id, purpose_code=purpose_code, category_code=category_code
    )
    using = active_purposes_by_category(resident_id=resident_id)
    purposes = purposes_by_code()
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


def purpose_withdrawal_notices(outcome: WithdrawalOutcome, purpose: Purpose) -> list[Notice]:
    return _withdrawal_notices(
        outcome,
        nothing=_("You had no active consent for %(purpose)s: nothing was withdrawn.")
        % {"purpose": _quoted([purpose.name])},
    )


def category_withdrawal_notices(outcome: WithdrawalOutcome, category: DataCategory) -> list[Notice]:
    return _withdrawal_notices(
        outcome,
        nothing=_("No purpose was using your %(category)s: nothing was withdrawn.")
        % {"category": _quoted([category.name])},
    )


def _withdrawal_notices(outcome: WithdrawalOutcome, *, nothing: str) -> list[Notice]:
    """Tell the resident exactly what a withdrawal did: ended, deleted, kept and why."""
    return [Notice(messages.SUCCESS, text) for text in withdrawal_messages(outcome) or [nothing]]


def withdrawal_messages(outcome: WithdrawalOutcome) -> list[str]:
    """One sentence per fact: what ended, what was deleted, what was kept and for whom."""
    if not outcome.withdrawn:
        return []
    purposes = {code: purpose.name for code, purpose in purposes_by_code().items()}
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
# Staff: a resident's paper consent recorded at the city counter
# ---------------------------------------------------------------------------------------------


def counter_notices(
    *, email: str, purpose: Purpose, events: Sequence[ConsentEvent]
) -> list[Notice]:
    if not events:
        return [
            Notice(
                messages.INFO,
                _(
                    "Nothing was recorded: %(email)s had no active consent for these categories "
                    "under %(purpose)s."
                )
                % {"email": email, "purpose": _quoted([purpose.name])},
            )
        ]
    receipts = ", ".join(str(event.public_id) for event in events)
    return [
        Notice(
            messages.SUCCESS,
            ngettext(
                "Recorded for %(email)s (%(purpose)s, paper form %(reference)s). "
                "Receipt: %(receipts)s.",
                "Recorded for %(email)s (%(purpose)s, paper form %(reference)s). "
                "Receipts: %(receipts)s.",
                len(events),
            )
            % {
                "email": email,
                "purpose": _quoted([purpose.name]),
                "reference": events[0].paper_form_reference,
                "receipts": receipts,
            },
        )
    ]


# ---------------------------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------------------------


def _quoted(names: Iterable[str]) -> str:
    # Quotation marks and list separators differ between Japanese (「」、) and English.
    return _(", ").join(_("“%(name)s”") % {"name": name} for name in names)


def _names(terms: Iterable[ConsentTerms]) -> list[str]:
    return [t.purpose.name for t in terms]


def _category_names(codes: Iterable[str]) -> list[str]:
    return [c.name for c in data_categories(codes=codes)]
