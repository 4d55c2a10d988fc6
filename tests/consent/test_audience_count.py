"""consent.policy.count_matching: the gate counts the residents a targeting reaches among those
whose consent lets the purpose read every category the targeting uses, and logs the read."""

from __future__ import annotations

import pytest

from consent import policy
from consent.catalogue import Category, category_mask
from consent.models import DataUseEvent
from portal.models import Area, User
from portal.residents import services as profile_services
from tests.factories import DistrictFactory, SchoolFactory, StaffFactory, UserFactory
from tests.helpers import grant, withdraw

pytestmark = pytest.mark.django_db

HOME = "personalised_home"


@pytest.fixture
def district() -> Area:
    return DistrictFactory.create()


@pytest.fixture
def neighbourhood(district: Area) -> Area:
    return Area.objects.create(
        code="072028-nb-1", kind=Area.Kind.NEIGHBOURHOOD, name_ja="一丁目", parent=district
    )


@pytest.fixture
def staff() -> User:
    return StaffFactory.create(roles=["publisher"])


def reader(staff: User) -> policy.Reader:
    return policy.Reader(
        kind="staff", name="audience estimate for a notice", recipient="city", staff_id=staff.pk
    )


def resident_in(area: Area, *, purpose: str = HOME, categories: tuple[str, ...] = ("places",)):
    resident = UserFactory.create()
    grant(resident, purpose, *categories)
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=area.code)
    return resident


def count(staff: User, purpose: str = HOME, **spec) -> int:
    return policy.count_matching(
        purpose=purpose, reader=reader(staff), spec=policy.AudienceSpec(**spec)
    )


def test_only_residents_who_consented_are_counted(district, staff) -> None:
    resident_in(district)
    resident_in(district)
    # Shared places for disaster warnings only: the home page may not read them.
    resident_in(district, purpose="disaster_warnings")
    assert count(staff, area_ids=frozenset({district.pk})) == 2
    assert count(staff, "disaster_warnings", area_ids=frozenset({district.pk})) == 1


def test_a_resident_who_withdrew_is_not_counted(district, staff) -> None:
    stays, leaves = resident_in(district), resident_in(district)
    withdraw(leaves, purpose=HOME)
    assert count(staff, area_ids=frozenset({district.pk})) == 1
    assert not DataUseEvent.objects.filter(resident=leaves).exists()
    assert DataUseEvent.objects.filter(resident=stays).exists()


def test_an_area_includes_the_areas_below_it(district, neighbourhood, staff) -> None:
    resident_in(neighbourhood)
    resident_in(district)
    elsewhere = DistrictFactory.create()
    resident_in(elsewhere)
    assert count(staff, area_ids=frozenset({district.pk})) == 2
    assert count(staff, area_ids=frozenset({neighbourhood.pk})) == 1
    assert count(staff, area_ids=frozenset({district.parent_id})) == 3


def test_every_category_the_targeting_uses_must_be_granted(district, staff) -> None:
    both = resident_in(district, categories=("places", "age"))
    profile_services.profile_set_birth_year(resident_id=both.pk, birth_year=1990)
    places_only = resident_in(district)
    band = policy.age_band(1990)
    assert band is not None
    assert count(staff, area_ids=frozenset({district.pk}), age_bands=frozenset({band})) == 1
    # Not read at all, so not logged: only residents with every category needed are read.
    assert not DataUseEvent.objects.filter(resident=places_only).exists()


def test_school_audiences_and_interests(staff) -> None:
    school, other = SchoolFactory.create(), SchoolFactory.create()
    parent = UserFactory.create()
    grant(parent, HOME, "household", "interests")
    profile_services.child_add(resident_id=parent.pk, school_code=school.code, grade=3)
    profile_services.profile_set_interests(resident_id=parent.pk, interest_codes=["sports"])
    assert count(staff, school_audiences=frozenset({(school.pk, None)})) == 1
    assert count(staff, school_audiences=frozenset({(school.pk, 3)})) == 1
    assert count(staff, school_audiences=frozenset({(school.pk, 4)})) == 0
    assert count(staff, school_audiences=frozenset({(other.pk, None)})) == 0
    assert count(staff, interest_codes=frozenset({"sports"})) == 1
    assert (
        count(
            staff,
            interest_codes=frozenset({"sports"}),
            school_audiences=frozenset({(school.pk, 4)}),
        )
        == 0
    )


def test_no_targeting_counts_everyone_with_a_grant_for_the_purpose(district, staff) -> None:
    resident_in(district)
    grant(UserFactory.create(), HOME, "age")
    grant(UserFactory.create(), "school_letters", "household")
    assert count(staff) == 2
    assert not DataUseEvent.objects.exists()  # no attribute was read


def test_the_read_is_logged_as_a_staff_read_per_resident(district, staff) -> None:
    matched = resident_in(district)
    read_not_matched = resident_in(DistrictFactory.create())
    count(staff, area_ids=frozenset({district.pk}))
    count(staff, area_ids=frozenset({district.pk}))
    for resident in (matched, read_not_matched):
        event = DataUseEvent.objects.get(resident=resident)
        assert event.reader_kind == "staff"
        assert event.reader_name == "audience estimate for a notice"
        assert event.staff_account_id == staff.pk
        assert event.purpose_code == HOME
        assert event.recipient_code == "city"
        assert event.use_count == 2
        assert event.category_mask == category_mask([Category.PLACES])


def test_counting_goes_chunk_by_chunk(district, staff) -> None:
    for _ in range(5):
        resident_in(district)
    spec = policy.AudienceSpec(area_ids=frozenset({district.pk}))
    assert policy.count_matching(purpose=HOME, reader=reader(staff), spec=spec, chunk_size=2) == 5


def test_the_recipient_must_be_named_by_the_terms(district, staff) -> None:
    resident_in(district, purpose="disaster_warnings")
    spec = policy.AudienceSpec(area_ids=frozenset({district.pk}))
    operator = policy.Reader(kind="staff", name="estimate", recipient="operator", staff_id=staff.pk)
    # The disaster warnings' terms name the city only.
    assert policy.count_matching(purpose="disaster_warnings", reader=operator, spec=spec) == 0
    assert count(staff, "disaster_warnings", area_ids=frozenset({district.pk})) == 1


def test_a_category_the_purpose_never_covers_counts_nobody(district, staff) -> None:
    resident = resident_in(district, purpose="disaster_warnings")
    grant(resident, HOME, "age")
    profile_services.profile_set_birth_year(resident_id=resident.pk, birth_year=1990)
    band = policy.age_band(1990)
    assert band is not None
    assert count(staff, "disaster_warnings", age_bands=frozenset({band})) == 0
