"""Consent changes that one page asks for in one go, each carried out in one transaction
with the consent services: one opt-in step, a purpose's new choice of categories, and a
paper form recorded at the counter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from consent.models import ConsentEvent, ConsentTerms, CounterAction, CounterDispute, PaperForm
from consent.selectors import categories_granted_under, verified_resident_by_email
from consent.services import (
    Actor,
    PaperFormUse,
    WithdrawalOutcome,
    consent_grant,
    consent_refuse,
    consent_withdraw,
    counter_dispute_resolve,
    paper_form_mark_used,
    paper_form_take,
)
from consent.tasks import send_counter_notice, send_dispute_answer
from portal.infra.task_outbox import enqueue_on_commit

if TYPE_CHECKING:
    from portal.models import User


@transaction.atomic
def setup_step_record(
    *,
    resident: User,
    category_code: str,
    shared: Sequence[ConsentTerms],
    refused: Sequence[ConsentTerms],
) -> None:
    """The answer to one opt-in step: which purposes may use this category, which may not."""
    actor = Actor.resident(resident)
    for terms in shared:
        consent_grant(
            resident=resident, terms_id=terms.pk, category_codes=[category_code], actor=actor
        )
    for terms in refused:
        consent_refuse(
            resident=resident, terms_id=terms.pk, category_codes=[category_code], actor=actor
        )


@dataclass(frozen=True)
class CategoryChoice:
    """A resident's new choice of categories for one purpose, against what it uses now."""

    to_grant: list[str]
    to_withdraw: list[str]

    @classmethod
    def between(
        cls, *, active: set[str], ticked: set[str], held: set[str] | None = None
    ) -> CategoryChoice:
        """``held`` adds grants under replaced terms: unticked, they are withdrawn as well."""
        kept_before = active | (held or set())
        return cls(to_grant=sorted(ticked - active), to_withdraw=sorted(kept_before - ticked))


@transaction.atomic
def purpose_categories_change(
    *, resident: User, terms_id: int, purpose_code: str, choice: CategoryChoice
) -> WithdrawalOutcome:
    """Grant the newly ticked categories and withdraw the unticked ones, all or nothing."""
    actor = Actor.resident(resident)
    if choice.to_grant:
        consent_grant(
            resident=resident, terms_id=terms_id, category_codes=choice.to_grant, actor=actor
        )
    return _merged(
        [
            consent_withdraw(
                resident=resident, actor=actor, purpose_code=purpose_code, category_code=code
            )
            for code in choice.to_withdraw
        ]
    )


@dataclass(frozen=True)
class CounterRequest:
    """A signed paper form as typed in at the counter."""

    paper_form_reference: str
    email: str
    terms: ConsentTerms
    category_codes: list[str]
    withdraw: bool


def counter_consent_record(
    *, staff: User, request: CounterRequest, ip_address: str | None = None
) -> PaperForm:
    """Use one form of the register, and record what it asks if its address is a verified
    resident's; either way the address is emailed at once (a receipt link, or a note that
    nothing was recorded). Raises ConsentError, changing nothing, if the form cannot be used.

    The outcome does not tell the clerk whether the address has an account: the counter must
    not be a way to look up who uses Machi+.
    """
    with transaction.atomic():
        form = paper_form_take(reference=request.paper_form_reference)
        resident = verified_resident_by_email(email=request.email)
        # Marked used first: a withdrawal's hold on erasure must be on record when the
        # withdrawal asks what may be erased.
        paper_form_mark_used(
            form=form,
            staff=staff,
            use=PaperFormUse(
                action=CounterAction.WITHDRAW if request.withdraw else CounterAction.GRANT,
                purpose_code=request.terms.purpose.code,
                category_codes=request.category_codes,
            ),
            resident=resident,
            ip_address=ip_address,
        )
        if resident is not None:
            _apply_paper_form(staff=staff, form=form, resident=resident, request=request)
        # Only an address that matched no account travels in the task message (and waits in the
        # task outbox until the broker has it); the register keeps no address at all.
        unmatched = "" if resident is not None else request.email
        enqueue_on_commit(send_counter_notice, paper_form_id=form.pk, unmatched_address=unmatched)
    return form


def counter_dispute_answer(
    *, officer: User, dispute_id: int, resolution: str, ip_address: str | None = None
) -> CounterDispute:
    """Resolve a dispute and email the answer to the resident once it is on record."""
    with transaction.atomic():
        dispute = counter_dispute_resolve(
            officer=officer, dispute_id=dispute_id, resolution=resolution, ip_address=ip_address
        )
        enqueue_on_commit(send_dispute_answer, dispute_id=dispute.pk)
    return dispute


def _apply_paper_form(
    *, staff: User, form: PaperForm, resident: User, request: CounterRequest
) -> list[ConsentEvent]:
    actor = Actor.counter_staff(staff, paper_form_reference=form.reference)
    if not request.withdraw:
        # What the resident already shares under these very terms stays theirs: a paper form
        # re-granting it would put the form's event on the consent, and disputing the form
        # would then withdraw a consent the resident gave online.
        already = categories_granted_under(resident_id=resident.pk, terms_id=request.terms.pk)
        new_codes = [code for code in request.category_codes if code not in already]
        if not new_codes:
            return []
        return [
            consent_grant(
                resident=resident, terms_id=request.terms.pk, category_codes=new_codes, actor=actor
            )
        ]
    outcomes = [
        consent_withdraw(
            resident=resident,
            actor=actor,
            purpose_code=request.terms.purpose.code,
            category_code=code,
        )
        for code in request.category_codes
    ]
    return [event for outcome in outcomes for event in outcome.events]


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
