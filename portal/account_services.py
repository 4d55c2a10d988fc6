"""Closing a resident's account."""

from __future__ import annotations

from django.db import transaction

from consent.services import Actor, consents_withdraw_all
from portal.models import User


@transaction.atomic
def account_delete(*, user: User, actor: Actor | None = None) -> None:
    """Erase the account and everything stored about the resident, all or nothing.

    Every active consent is withdrawn first, so the ledger records the end of each one (and the
    withdrawal erases the attributes); deleting the user then removes the rest by CASCADE:
    consent states, the data-use log, email addresses, authenticators. The ledger keeps only
    events under the pseudonym, which no longer links to anyone.
    """
    consents_withdraw_all(resident=user, actor=actor or Actor.resident(user))
    user.delete()
