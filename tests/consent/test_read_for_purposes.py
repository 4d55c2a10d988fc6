"""One resident read for several purposes at once (what one page shows): each purpose sees
exactly what a read of its own would give it, and each use is logged under its own reader."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent import policy
from consent.catalogue import SUBJECT_ACCESS, Category, PurposeCode
from consent.models import DataUseEvent
from consent.policy import Need, Reader
from portal.models import Area, School
from portal.residents import services as profile_services
from tests.consent.test_policy import _store_what_may_be_stored, grant_everything
from tests.consent.test_range_read import in_another_connection, postgresql_only
from tests.factories import DistrictFactory, NoticeFactory, SchoolFactory, UserFactory
from tests.helpers import grant, terms_of, withdraw

pytestmark = pytest.mark.django_db

PAGE = Reader(kind="view", name="test page", recipient="city")
LETTERS = Reader(kind="view", name="test letters", recipient="city")
EVERYTHING = tuple(Category.values)


def need(purpose: str, *categories: str, reader: Reader = PAGE) -> Need:
    return Need(purpose=purpose, reader=reader, categories=categories or EVERYTHING)


def read_alone(resident_id: int, wanted: Need) -> policy.ProfileProjection:
    return policy.read_profile(
        resident_id=resident_id,
        purpose=wanted.purpose,
        reader=wanted.reader,
        categories=wanted.categories,
    )


@pytest.fixture
def sharing_resident():
    """A resident who agreed to everything and stored something of every category, with one
    notice in their history."""
    resident = UserFactory.create()
    grant_everything(resident)
    _store_what_may_be_stored(
        resident.pk,
        frozenset(Category.values),
        district=DistrictFactory.create(),
        school=SchoolFactory.create(),
    )
    profile_services.interaction_record(
        resident_id=resident.pk, notice_id=NoticeFactory.create().pk, kind="saved"
    )
    return resident


def test_each_purpose_sees_only_what_it_was_granted(sharing_resident) -> None:
    withdraw(sharing_resident, purpose=PurposeCode.PERSONALISED_HOME, category=Category.PLACES)

    warnings, home = policy.read_profile_for_purposes(
        resident_id=sharing_resident.pk,
        needs=[
            need(PurposeCode.DISASTER_WARNINGS, Category.PLACES, Category.LOCATION),
            need(PurposeCode.PERSONALISED_HOME, Category.PLACES, Category.INTERACTIONS),
        ],
    )

    assert warnings.places and warnings.home_location is not None
    assert warnings.interactions == ()
    assert home.categories == {Category.INTERACTIONS}
    assert home.places == ()
    assert home.interactions


def test_a_purpose_gets_nothing_it_did_not_ask_for_even_when_another_asked(
    sharing_resident,
) -> None:
    letters, home = policy.read_profile_for_purposes(
        resident_id=sharing_resident.pk,
        needs=[
            need(PurposeCode.SCHOOL_LETTERS, Category.HOUSEHOLD),
            need(PurposeCode.PERSONALISED_HOME, Category.INTERESTS),
        ],
    )

    assert letters.children and letters.interests == ()
    assert home.interests and home.children == ()


def test_each_use_is_logged_under_its_own_purpose_reader_and_categories(sharing_resident) -> None:
    policy.read_profile_for_purposes(
        resident_id=sharing_resident.pk,
        needs=[
            need(PurposeCode.DISASTER_WARNINGS, Category.PLACES),
            need(PurposeCode.SCHOOL_LETTERS, Category.HOUSEHOLD, reader=LETTERS),
        ],
    )

    logged = {
        (use.purpose_code, use.reader_name, tuple(use.category_codes), use.use_count)
        for use in DataUseEvent.objects.filter(resident=sharing_resident)
    }
    assert logged == {
        (PurposeCode.DISASTER_WARNINGS, "test page", (Category.PLACES,), 1),
        (PurposeCode.SCHOOL_LETTERS, "test letters", (Category.HOUSEHOLD,), 1),
    }


def test_a_purpose_that_may_read_nothing_gets_an_empty_projection_and_no_log_row() -> None:
    resident = UserFactory.create()
    grant(resident, PurposeCode.DISASTER_WARNINGS, Category.PLACES)

    warnings, home = policy.read_profile_for_purposes(
        resident_id=resident.pk,
        needs=[need(PurposeCode.DISASTER_WARNINGS), need(PurposeCode.PERSONALISED_HOME)],
    )

    assert warnings.categories == {Category.PLACES}
    assert home == policy.ProfileProjection(
        resident_id=resident.pk, purpose=PurposeCode.PERSONALISED_HOME, categories=frozenset()
    )
    assert list(DataUseEvent.objects.values_list("purpose_code", flat=True)) == [
        PurposeCode.DISASTER_WARNINGS
    ]


def test_a_recipient_the_consent_does_not_name_gets_nothing_beside_one_it_names(
    sharing_resident,
) -> None:
    operator = Reader(kind="task", name="operator page", recipient="operator")

    for_city, for_operator = policy.read_profile_for_purposes(
        resident_id=sharing_resident.pk,
        needs=[
            need(PurposeCode.DISASTER_WARNINGS, Category.PLACES),
            need(PurposeCode.DISASTER_WARNINGS, Category.PLACES, reader=operator),
        ],
    )

    assert for_city.places
    assert for_operator.categories == frozenset() and for_operator.places == ()


def test_the_resident_s_own_look_is_refused_here() -> None:
    resident = UserFactory.create()
    with pytest.raises(ValueError, match="read_own_data"):
        policy.read_profile_for_purposes(resident_id=resident.pk, needs=[need(SUBJECT_ACCESS)])


def test_an_empty_list_of_needs_is_refused() -> None:
    resident = UserFactory.create()
    with pytest.raises(ValueError, match="at least one"):
        policy.read_profile_for_purposes(resident_id=resident.pk, needs=[])


def test_every_field_of_a_projection_belongs_to_exactly_one_category() -> None:
    """A restricted projection is built from its categories' fields alone: a new field with no
    category would never be shown, and one in two categories could leak through the other."""
    per_category = [set(fields) for fields in policy._FIELDS_OF_CATEGORY.values()]
    attribute_fields = {field.name for field in dataclasses.fields(policy.ProfileProjection)} - {
        "resident_id",
        "purpose",
        "categories",
    }
    assert set(policy._FIELDS_OF_CATEGORY) == set(Category.values)
    assert set().union(*per_category) == attribute_fields
    assert sum(len(fields) for fields in per_category) == len(attribute_fields)


@pytest.mark.django_db(transaction=True)  # outside any transaction, as a page reads
def test_the_reads_of_three_purposes_take_at_most_twelve_queries(
    sharing_resident, django_assert_max_num_queries
) -> None:
    needs = [
        need(PurposeCode.DISASTER_WARNINGS, Category.PLACES, Category.LOCATION),
        need(PurposeCode.PERSONALISED_HOME, Category.PLACES, Category.INTERACTIONS),
        need(PurposeCode.SCHOOL_LETTERS, Category.HOUSEHOLD, reader=LETTERS),
    ]
    # terms, permissions, one per category (location, places, interactions, household), the
    # log; and the transactions around the read and the log.
    with django_assert_max_num_queries(12):
        policy.read_profile_for_purposes(resident_id=sharing_resident.pk, needs=needs)


# --- property: the same as each purpose's own read ----------------------------------------------

grants = st.dictionaries(
    keys=st.sampled_from(PurposeCode.values),
    values=st.frozensets(st.sampled_from(Category.values)),
)
withdrawals = st.lists(
    st.tuples(st.sampled_from(PurposeCode.values), st.sampled_from(Category.values)), max_size=4
)
needs_of_a_page = st.lists(
    st.builds(
        need,
        st.sampled_from(PurposeCode.values),
        st.sampled_from(Category.values),
        st.sampled_from(Category.values),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(granted=grants, withdrawn=withdrawals, needs=needs_of_a_page)
@pytest.mark.django_db(transaction=True)  # outside any transaction: the one-snapshot path
def test_each_projection_is_what_the_purpose_s_own_read_gives(granted, withdrawn, needs) -> None:
    resident = UserFactory.create()
    for purpose_code, categories in granted.items():
        covered = sorted(set(categories) & set(terms_of(purpose_code).category_codes))
        if covered:
            grant(resident, purpose_code, *covered)
    district = Area.objects.filter(kind="district").first() or DistrictFactory.create()
    school = School.objects.first() or SchoolFactory.create()
    _store_what_may_be_stored(
        resident.pk, frozenset(Category.values), district=district, school=school
    )
    for purpose_code, category in withdrawn:
        withdraw(resident, purpose=purpose_code, category=category)

    together = policy.read_profile_for_purposes(resident_id=resident.pk, needs=needs)

    assert together == [read_alone(resident.pk, wanted) for wanted in needs]


# --- one snapshot ---------------------------------------------------------------------------------

HOME_PLACES = need(PurposeCode.PERSONALISED_HOME, Category.PLACES)


@pytest.fixture
def withdrawn_mid_read(monkeypatch):
    """A resident with a home place shared for the home page and for warnings, who withdraws
    it from the home page (and stores a work place, still covered by warnings) on another
    connection between the read's permission query and its attribute queries."""
    district = DistrictFactory.create()
    resident = UserFactory.create()
    grant(resident, PurposeCode.PERSONALISED_HOME, Category.PLACES)
    grant(resident, PurposeCode.DISASTER_WARNINGS, Category.PLACES)
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)

    def withdraw_then_store() -> None:
        withdraw(resident, purpose=PurposeCode.PERSONALISED_HOME, category=Category.PLACES)
        profile_services.place_add(resident_id=resident.pk, kind="work", area_code=district.code)

    monkeypatch.setattr(
        policy, "_after_permission_query", in_another_connection(withdraw_then_store)
    )
    return resident


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_committed_during_the_read_does_not_mix_into_it(withdrawn_mid_read) -> None:
    """The read sees the places as of its permission query: a place stored after the
    withdrawal (another purpose still covers places) is not read under the stale permission."""
    resident = withdrawn_mid_read

    (home,) = policy.read_profile_for_purposes(resident_id=resident.pk, needs=[HOME_PLACES])

    assert [place.kind for place in home.places] == ["home"]
    (after,) = policy.read_profile_for_purposes(resident_id=resident.pk, needs=[HOME_PLACES])
    assert after.places == ()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_a_withdrawal_during_the_read_does_not_mix_into_it(
    withdrawn_mid_read,
) -> None:
    """A caller's READ COMMITTED transaction is no snapshot: each purpose is then read with its
    own permission checked by its attribute queries."""
    with transaction.atomic():
        (home,) = policy.read_profile_for_purposes(
            resident_id=withdrawn_mid_read.pk, needs=[HOME_PLACES]
        )

    assert [place.kind for place in home.places] in (["home"], [])
