"""Granting, refusing and withdrawing consent, and what happens to the data."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.utils import timezone

from consent import policy
from consent.models import ConsentEvent, ConsentState, ConsentStatus
from consent.services import Actor, ConsentError, consent_grant, consent_refuse, terms_publish
from consent.tasks import expire_consents
from portal.residents import services as profile_services
from portal.residents.services import ProfileError
from tests.factories import DistrictFactory, SchoolFactory, StaffFactory, UserFactory
from tests.helpers import grant, publish_material_change, terms_of, withdraw

pytestmark = pytest.mark.django_db


def stored_categories(resident_id: int) -> set[str]:
    own = policy.read_own_data(resident_id=resident_id)
    present: set[str] = set()
    if own.birth_year is not None:
        present.add("age")
    if own.places:
        present.add("places")
    if own.children:
        present.add("household")
    if own.interests:
        present.add("interests")
    if own.home_location:
        present.add("location")
    return present


def test_an_attribute_without_consent_cannot_be_stored() -> None:
    resident = UserFactory.create()
    with pytest.raises(ProfileError):
        profile_services.profile_set_birth_year(resident_id=resident.pk, birth_year=1980)
    assert stored_categories(resident.pk) == set()


def test_withdrawing_the_only_consent_for_a_category_deletes_its_data() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places", "interests")
    profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=DistrictFactory.create().code
    )
    profile_services.profile_set_interests(resident_id=resident.pk, interest_codes=["sports"])

    outcome = withdraw(resident, purpose="personalised_home", category="places")

    assert outcome.erased == {"places"}
    assert stored_categories(resident.pk) == {"interests"}


def test_data_another_purpose_still_uses_is_kept_and_the_resident_is_told_why() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    grant(resident, "disaster_warnings", "places")
    profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=DistrictFactory.create().code
    )

    outcome = withdraw(resident, purpose="personalised_home")

    assert outcome.erased == frozenset()
    assert outcome.kept == {"places": ["disaster_warnings"]}
    assert stored_categories(resident.pk) == {"places"}


def test_withdrawing_a_category_ends_it_for_every_purpose() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    grant(resident, "disaster_warnings", "places", "location")
    outcome = withdraw(resident, category="places")
    assert sorted(outcome.withdrawn) == [
        ("disaster_warnings", "places"),
        ("personalised_home", "places"),
    ]
    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == {
        "location"
    }


def test_refusing_after_granting_ends_the_consent_and_erases_the_data() -> None:
    resident = UserFactory.create()
    grant(resident, "school_letters", "household")
    profile_services.child_add(
        resident_id=resident.pk, school_code=SchoolFactory.create().code, grade=3
    )
    consent_refuse(
        resident=resident,
        terms_id=terms_of("school_letters").pk,
        category_codes=["household"],
        actor=Actor.resident(resident),
    )
    assert stored_categories(resident.pk) == set()
    assert ConsentState.objects.get(resident=resident).status == ConsentStatus.REFUSED


def refuse(resident, purpose: str, *categories: str):
    return consent_refuse(
        resident=resident,
        terms_id=terms_of(purpose).pk,
        category_codes=list(categories),
        actor=Actor.resident(resident),
    )


def test_refusing_again_what_is_already_refused_appends_nothing() -> None:
    resident = UserFactory.create()
    first = refuse(resident, "personalised_home", "interests")

    again = refuse(resident, "personalised_home", "interests")

    assert first is not None
    assert again is None
    assert ConsentEvent.objects.filter(subject_pseudonym=resident.pseudonym).count() == 1


def test_a_refusal_records_only_the_categories_not_already_refused() -> None:
    resident = UserFactory.create()
    refuse(resident, "personalised_home", "interests")

    event = refuse(resident, "personalised_home", "interests", "age")

    assert event is not None
    assert event.category_codes == ["age"]


def test_refusing_after_a_grant_then_a_refusal_is_recorded_again() -> None:
    resident = UserFactory.create()
    refuse(resident, "personalised_home", "interests")
    grant(resident, "personalised_home", "interests")

    assert refuse(resident, "personalised_home", "interests") is not None
    assert policy.allowed_categories(resident_id=resident.pk, purpose="personalised_home") == set()


def test_expiry_appends_an_event_and_erases_what_no_other_consent_covers(settings) -> None:
    resident = UserFactory.create()
    grant(resident, "school_letters", "household")
    profile_services.child_add(
        resident_id=resident.pk, school_code=SchoolFactory.create().code, grade=1
    )

    with time_machine.travel(timezone.now() + timedelta(days=366)):
        assert expire_consents() == 1
        assert expire_consents() == 0  # running twice is harmless

    assert ConsentEvent.objects.filter(kind="expire").count() == 1
    assert stored_categories(resident.pk) == set()


@pytest.mark.parametrize(
    ("categories", "message"),
    [
        (["no_such_category"], "Unknown data category"),
        (["location"], "do not cover"),
        ([], "at least one"),
    ],
)
def test_a_bad_grant_is_refused_with_a_reason_and_records_nothing(categories, message) -> None:
    resident = UserFactory.create()
    with pytest.raises(ConsentError, match=message):
        consent_grant(
            resident=resident,
            terms_id=terms_of("school_letters").pk,
            category_codes=categories,
            actor=Actor.resident(resident),
        )
    assert not ConsentEvent.objects.exists()
    assert not ConsentState.objects.exists()


def test_a_grant_against_superseded_terms_is_refused_and_records_nothing() -> None:
    resident = UserFactory.create()
    old = terms_of("school_letters")
    terms_publish(
        purpose_code="school_letters",
        category_codes=old.category_codes,
        recipient_codes=old.recipient_codes,
        text_ja=old.text_ja + "改",
        text_en=old.text_en + " v2",
        retention_days=60,
        valid_days=old.valid_days,
        withdrawal_method_ja=old.withdrawal_method_ja,
        withdrawal_method_en=old.withdrawal_method_en,
    )
    with pytest.raises(ConsentError, match="replaced"):
        consent_grant(
            resident=resident,
            terms_id=old.pk,
            category_codes=["household"],
            actor=Actor.resident(resident),
        )
    assert not ConsentEvent.objects.exists()


def test_an_editorial_version_may_not_change_what_is_shared() -> None:
    old = terms_of("school_letters")
    with pytest.raises(ConsentError, match="material"):
        terms_publish(
            purpose_code="school_letters",
            category_codes=[*old.category_codes, "age"],
            recipient_codes=old.recipient_codes,
            text_ja=old.text_ja,
            text_en=old.text_en,
            retention_days=old.retention_days,
            valid_days=old.valid_days,
            withdrawal_method_ja=old.withdrawal_method_ja,
            withdrawal_method_en=old.withdrawal_method_en,
            requires_reconsent=False,
        )


def test_counter_consent_needs_the_paper_form_reference() -> None:
    with pytest.raises(ConsentError, match="paper form"):
        Actor.counter_staff(StaffFactory.create(), paper_form_reference="  ")


def test_counter_consent_is_recorded_with_its_channel_staff_pseudonym_and_form_reference() -> None:
    resident, clerk = UserFactory.create(), StaffFactory.create()
    event = consent_grant(
        resident=resident,
        terms_id=terms_of("disaster_warnings").pk,
        category_codes=["places"],
        actor=Actor.counter_staff(clerk, paper_form_reference="AIZU-2026-0042"),
    )
    assert (event.channel, event.actor_kind) == ("counter", "staff")
    assert event.actor_pseudonym == clerk.pseudonym
    assert event.paper_form_reference == "AIZU-2026-0042"
    assert event.subject_pseudonym == resident.pseudonym


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda r: profile_services.profile_set_birth_year(resident_id=r, birth_year=1850),
            "between",
        ),
        (
            lambda r: profile_services.place_add(resident_id=r, kind="home", area_code="nowhere"),
            "Unknown area",
        ),
        (
            lambda r: profile_services.place_add(resident_id=r, kind="moon", area_code="x"),
            "kind of place",
        ),
        (
            lambda r: profile_services.profile_set_interests(resident_id=r, interest_codes=["x"]),
            "Unknown interest",
        ),
        (
            lambda r: profile_services.profile_set_home_location(
                resident_id=r, latitude=Decimal("139.9"), longitude=Decimal("37.5")
            ),
            "not in Japan",
        ),
    ],
)
def test_bad_attribute_values_are_refused_with_a_reason_and_store_nothing(call, message) -> None:
    resident = UserFactory.create()
    for terms in (terms_of(p) for p in ("personalised_home", "disaster_warnings")):
        grant(resident, terms.purpose.code, *terms.category_codes)
    with pytest.raises(ProfileError, match=message):
        call(resident.pk)
    assert stored_categories(resident.pk) == set()


def test_a_grade_outside_the_schools_range_is_refused() -> None:
    resident = UserFactory.create()
    grant(resident, "school_letters", "household")
    school = SchoolFactory.create(kind="junior_high")
    with pytest.raises(ProfileError, match="grades 1 to 3"):
        profile_services.child_add(resident_id=resident.pk, school_code=school.code, grade=4)


def test_data_under_replaced_terms_is_kept_unusable_during_the_retention_period() -> None:
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "location")
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.5"), longitude=Decimal("139.9")
    )
    publish_material_change("disaster_warnings")

    assert expire_consents() == 0
    assert stored_categories(resident.pk) == {"location"}
    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == set()


def test_consent_not_renewed_after_a_terms_change_lapses_and_its_data_is_erased() -> None:
    from datetime import timedelta

    from django.utils import timezone

    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "location")
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.5"), longitude=Decimal("139.9")
    )
    publish_material_change("disaster_warnings")
    later = timezone.now() + timedelta(days=terms_of("disaster_warnings").retention_days + 1)

    from consent.services import consents_expire

    assert consents_expire(now=later) == 1
    assert stored_categories(resident.pk) == set()
    assert ConsentEvent.objects.filter(kind="expire", purpose_code="disaster_warnings").exists()


def test_re_consenting_in_time_keeps_the_data() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from consent.services import consents_expire

    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "location")
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.5"), longitude=Decimal("139.9")
    )
    publish_material_change("disaster_warnings")
    grant(resident, "disaster_warnings", "location")

    assert consents_expire(now=timezone.now() + timedelta(days=365)) == 0
    assert stored_categories(resident.pk) == {"location"}


def test_refusing_the_new_terms_erases_data_held_under_the_replaced_ones_at_once() -> None:
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "location")
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.5"), longitude=Decimal("139.9")
    )
    new = publish_material_change("disaster_warnings")

    consent_refuse(
        resident=resident,
        terms_id=new.pk,
        category_codes=["location"],
        actor=Actor.resident(resident),
    )

    assert stored_categories(resident.pk) == set()


def test_a_later_terms_version_does_not_extend_the_grace_period() -> None:
    from datetime import timedelta

    from consent.services import consents_expire

    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "location")
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.5"), longitude=Decimal("139.9")
    )
    v2 = publish_material_change("disaster_warnings")  # starts the grace period
    grace_ends = v2.published_at + timedelta(days=v2.retention_days)
    with mock.patch("django.utils.timezone.now", return_value=grace_ends - timedelta(days=1)):
        publish_material_change("disaster_warnings")  # v3, a day before the grace ends

    assert consents_expire(now=grace_ends + timedelta(minutes=1)) == 1
    assert stored_categories(resident.pk) == set()


def test_unticking_a_category_held_under_replaced_terms_withdraws_it() -> None:
    from consent.flows import CategoryChoice

    choice = CategoryChoice.between(
        active={"places"}, held={"places", "location"}, ticked={"places"}
    )
    assert choice.to_withdraw == ["location"]
    assert choice.to_grant == []
