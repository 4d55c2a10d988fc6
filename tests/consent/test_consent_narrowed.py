"""consent_narrowed: sent inside the transaction whenever a purpose loses categories of a
resident, so that what it derived from them (feeds, reasons, outbox) goes too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from consent.services import Actor, consent_refuse, consents_expire
from consent.signals import consent_narrowed
from tests.factories import UserFactory
from tests.helpers import grant, publish_material_change, terms_of, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def narrowed() -> Iterator[list[tuple[int, str, frozenset[str], bool]]]:
    """(resident, purpose, categories, sent inside a transaction) of each signal sent."""
    sent: list[tuple[int, str, frozenset[str], bool]] = []

    def receiver(
        sender: object, *, resident_id: int, purpose: str, categories: frozenset[str], **_: Any
    ) -> None:
        sent.append((resident_id, purpose, categories, connection.in_atomic_block))

    consent_narrowed.connect(receiver, dispatch_uid="test_narrowed")
    yield sent
    consent_narrowed.disconnect(dispatch_uid="test_narrowed")


def refuse(resident, purpose: str, *categories: str) -> None:
    consent_refuse(
        resident=resident,
        terms_id=terms_of(purpose).pk,
        category_codes=list(categories),
        actor=Actor.resident(resident),
    )


def test_a_withdrawal_narrows_the_purpose_by_the_categories_withdrawn(narrowed) -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "age", "places", "interests")

    withdraw(resident, purpose="personalised_home", category="places")

    assert narrowed == [(resident.pk, "personalised_home", frozenset({"places"}), True)]


def test_withdrawing_a_category_narrows_every_purpose_that_had_it(narrowed) -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    grant(resident, "disaster_warnings", "places", "location")

    withdraw(resident, category="places")

    assert sorted(narrowed) == [
        (resident.pk, "disaster_warnings", frozenset({"places"}), True),
        (resident.pk, "personalised_home", frozenset({"places"}), True),
    ]


def test_a_purpose_is_narrowed_even_when_another_purpose_still_covers_the_category(
    narrowed,
) -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    grant(resident, "disaster_warnings", "places")

    withdraw(resident, purpose="personalised_home")

    assert narrowed == [(resident.pk, "personalised_home", frozenset({"places"}), True)]


def test_an_expiry_narrows_the_purpose(narrowed) -> None:
    resident = UserFactory.create()
    grant(resident, "school_letters", "household")

    consents_expire(now=timezone.now() + timedelta(days=366))

    assert narrowed == [(resident.pk, "school_letters", frozenset({"household"}), True)]


def test_refusing_what_was_granted_narrows_the_purpose(narrowed) -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "age", "places")

    refuse(resident, "personalised_home", "places", "interests")

    assert narrowed == [(resident.pk, "personalised_home", frozenset({"places"}), True)]


def test_refusing_new_terms_narrows_the_purpose_by_what_the_old_terms_granted(narrowed) -> None:
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places", "location")
    publish_material_change("disaster_warnings")

    refuse(resident, "disaster_warnings", "places", "location")

    assert narrowed == [(resident.pk, "disaster_warnings", frozenset({"places", "location"}), True)]


def test_nothing_is_sent_when_nothing_was_lost(narrowed) -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    refuse(resident, "disaster_warnings", "places")  # never granted: nothing to lose
    withdraw(resident, purpose="school_letters")  # nothing granted
    grant(resident, "personalised_home", "interests")
    consents_expire()  # nothing due

    assert narrowed == []


def test_a_grant_sends_consent_widened_with_the_purpose_and_categories() -> None:
    from consent.signals import consent_widened

    received: list[dict[str, object]] = []

    def receiver(sender: object, **kwargs: object) -> None:
        received.append(kwargs)

    consent_widened.connect(receiver, dispatch_uid="test_widened")
    try:
        resident = UserFactory.create()
        grant(resident, "personalised_home", "places", "age")
    finally:
        consent_widened.disconnect(dispatch_uid="test_widened")

    assert [(r["resident_id"], r["purpose"], r["categories"]) for r in received] == [
        (resident.pk, "personalised_home", frozenset({"places", "age"}))
    ]
