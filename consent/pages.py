"""What the consent pages are given: consent states, ledger history, disclosures and the
opt-in steps turned into page models. Reads only (through consent.selectors); the changes are in
consent.services and consent.flows, and the sentences that report them in consent.messages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.urls import reverse
from django.utils.translation import gettext as _

from consent.models import (
    ConsentEvent,
    ConsentStatus,
    ConsentTerms,
    DataCategory,
    PaperForm,
    PaperFormBatch,
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
    paper_forms_of_batch,
    purposes_by_code,
    recipients_by_code,
)

if TYPE_CHECKING:
    from consent.forms import PurposeChoiceForm, SetupStepForm


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
    # would silently end them. They are changed on the purpose page, where unticking says so.
    using = set(active_purposes_by_category(resident_id=resident_id).get(category_code, []))
    return SetupStepPage(
        step=step,
        number=index + 1,
        total=len(steps),
        next_url=next_url,
        offered=[t for t in step.covering if t.purpose.code not in using],
        already=[t for t in step.covering if t.purpose.code in using],
    )


def shared_by_purpose(*, resident_id: int) -> list[tuple[ConsentTerms, list[DataCategory]]]:
    """Each purpose's current terms with the categories it uses now; purposes using none
    are left out."""
    shared = [
        (terms, [row.category for row in rows if row.active])
        for terms, rows in consent_overview(resident_id=resident_id)
    ]
    return [(terms, categories) for terms, categories in shared if categories]


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


@dataclass(frozen=True)
class PaperFormRow:
    """One reference on a batch page, with what it asked for in words."""

    form: PaperForm
    asked_for: str
    disputed: bool


def paper_form_rows(*, batch: PaperFormBatch) -> list[PaperFormRow]:
    purposes = purposes_by_code()
    names = {category.code: category.name for category in data_categories()}
    rows = []
    for form in paper_forms_of_batch(batch=batch).select_related("dispute"):
        asked_for = ""
        if form.action:
            purpose = purposes.get(form.purpose_code)
            asked_for = _("%(action)s: %(purpose)s (%(categories)s)") % {
                "action": form.get_action_display(),
                "purpose": purpose.name if purpose else form.purpose_code,
                "categories": _(", ").join(names.get(c, c) for c in form.category_codes),
            }
        rows.append(PaperFormRow(form=form, asked_for=asked_for, disputed=hasattr(form, "dispute")))
    return rows
