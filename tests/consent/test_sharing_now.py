"""What a page says about a resident's sharing: their active grants, read in one query beside the
usable terms."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from consent.models import ConsentState
from consent.selectors import covered_categories, sharing_now
from tests.factories import UserFactory
from tests.helpers import grant, withdraw

pytestmark = pytest.mark.django_db


def test_sharing_names_each_purpose_s_categories_with_when_they_were_granted() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places", "interests")
    grant(resident, "disaster_warnings", "location")

    sharing = sharing_now(resident_id=resident.pk)

    assert set(sharing.grant_dates("personalised_home")) == {"places", "interests"}
    assert set(sharing.grant_dates("disaster_warnings")) == {"location"}
    assert sharing.grant_dates("school_letters") == {}
    granted_at = ConsentState.objects.get(
        resident=resident, purpose__code="disaster_warnings", category__code="location"
    ).changed_at
    assert sharing.grant_dates("disaster_warnings")["location"] == granted_at


def test_a_withdrawn_grant_is_not_shared() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places", "interests")
    withdraw(resident, category="interests")

    assert sharing_now(resident_id=resident.pk).categories == {"places"}


def test_an_expired_grant_is_not_shared() -> None:
    resident = UserFactory.create()
    grant(resident, "school_letters", "household")  # its terms hold for a year

    with time_machine.travel(timezone.now() + timedelta(days=366), tick=False):
        assert sharing_now(resident_id=resident.pk).categories == frozenset()


def test_the_categories_shared_are_those_some_purpose_may_use(django_assert_num_queries) -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places", "interests")
    grant(resident, "disaster_warnings", "location", "places")

    with django_assert_num_queries(2):  # the usable terms, the grants
        sharing = sharing_now(resident_id=resident.pk)

    assert sharing.categories == covered_categories(resident_id=resident.pk)
    assert sharing.categories == {"places", "interests", "location"}


def test_the_grants_condition_refuses_a_recipient_beside_terms_chosen_for_none() -> None:
    from consent.selectors import active_grants_q, usable_terms_ids

    with pytest.raises(ValueError, match="not both"):
        active_grants_q(recipient="city", usable_terms=usable_terms_ids())
