"""Small helpers for consent tests: grant and withdraw through the real services."""

from __future__ import annotations

from consent.models import ConsentEvent, ConsentTerms
from consent.selectors import current_terms
from consent.services import Actor, consent_grant, consent_withdraw
from portal.models import User


def terms_of(purpose: str) -> ConsentTerms:
    terms = current_terms(purpose_code=purpose)
    assert terms is not None, f"no terms for {purpose}"
    return terms


def grant(resident: User, purpose: str, *categories: str) -> ConsentEvent:
    return consent_grant(
        resident=resident,
        terms_id=terms_of(purpose).pk,
        category_codes=list(categories),
        actor=Actor.resident(resident),
    )


def withdraw(resident: User, *, purpose: str | None = None, category: str | None = None):
    return consent_withdraw(
        resident=resident,
        actor=Actor.resident(resident),
        purpose_code=purpose,
        category_code=category,
    )
