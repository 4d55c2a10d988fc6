"""Consent changes that one page asks for in one go, each carried out in one transaction
with the consent services: one opt-in step, a purpose's new choice of categories, and a
paper form recorded at the counter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from consent.models import ConsentEvent, ConsentTerms
from consent.services import (
    Actor,
    WithdrawalOutcome,
    consent_grant,
    consent_refuse,
    consent_withdraw,
)

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


def counter_consent_record(
    *,
    staff: User,
    paper_form_reference: str,
    resident: User,
    terms: ConsentTerms,
    category_codes: list[str],
    withdraw: bool,
) -> list[ConsentEvent]:
    """A resident's signed paper form, typed in by staff: grant or withdraw these categories.

    Returns the events recorded; none if nothing the form withdraws was active.
    """
    actor = Actor.counter_staff(staff, paper_form_reference=paper_form_reference)
    if not withdraw:
        return [
            consent_grant(
                resident=resident, terms_id=terms.pk, category_codes=category_codes, actor=actor
            )
        ]
    with transaction.atomic():
        outcomes = [
            consent_withdraw(
                resident=resident,
                actor=actor,
                purpose_code=terms.purpose.code,
                category_code=code,
            )
            for code in category_codes
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
