"""consent.policy is the gate: a purpose reads only the categories its resident agreed to."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent import policy
from consent.catalogue import Category, PurposeCode
from consent.models import DataUseEvent
from consent.policy import Reader
from consent.selectors import current_terms
from consent.services import Actor, consent_grant
from portal.models import Area, School
from portal.residents import services as profile_services
from tests.factories import DistrictFactory, SchoolFactory, StaffFactory, UserFactory
from tests.helpers import grant, publish_material_change, publish_wording_change, terms_of, withdraw

pytestmark = pytest.mark.django_db

SCORER = Reader(kind="task", name="test scorer", recipient="city")
EVERYTHING = Category.values


def fill_profile(resident_id: int, *, district: Area, school: School) -> None:
    """Store one attribute of every category (consent for all of them must exist)."""
    profile_services.profile_set_birth_year(resident_id=resident_id, birth_year=1985)
    profile_services.place_add(resident_id=resident_id, kind="home", area_code=district.code)
    profile_services.child_add(resident_id=resident_id, school_code=school.code, grade=2)
    profile_services.profile_set_interests(resident_id=resident_id, interest_codes=["sports"])
    profile_services.profile_set_language(
        resident_id=resident_id, preferred_language="en", large_text=True, easy_japanese=False
    )
    profile_services.profile_set_home_location(
        resident_id=resident_id, latitude=Decimal("37.49"), longitude=Decimal("139.93")
    )


def grant_everything(resident) -> None:
    for terms in (terms_of(p) for p in PurposeCode.values):
        grant(resident, terms.purpose.code, *terms.category_codes)


def categories_present(projection: policy.ProfileProjection) -> set[str]:
    present: set[str] = set()
    if projection.birth_year is not None or projection.age_band is not None:
        present.add(Category.AGE)
    if projection.places:
        present.add(Category.PLACES)
    if projection.children:
        present.add(Category.HOUSEHOLD)
    if projection.interests:
        present.add(Category.INTERESTS)
    if projection.preferred_language is not None or projection.needs_large_text is not None:
        present.add(Category.LANGUAGE)
    if projection.home_location is not None:
        present.add(Category.LOCATION)
    return present


@pytest.fixture
def full_resident():
    """A resident who agreed to everything and stored something in every category."""
    resident = UserFactory.create()
    grant_everything(resident)
    fill_profile(resident.pk, district=DistrictFactory.create(), school=SchoolFactory.create())
    return resident


def test_a_purpose_sees_only_the_categories_granted_to_it(full_resident) -> None:
    withdraw(full_resident, purpose="personalised_home", category="interests")
    projection = policy.read_profile(
        resident_id=full_resident.pk,
        purpose="personalised_home",
        reader=SCORER,
        categories=EVERYTHING,
    )
    assert projection.interests == ()
    assert projection.age_band is not None
    assert projection.places


def test_a_purpose_never_sees_a_category_its_terms_do_not_cover(full_resident) -> None:
    projection = policy.read_profile(
        resident_id=full_resident.pk, purpose="school_letters", reader=SCORER, categories=EVERYTHING
    )
    assert categories_present(projection) == {Category.HOUSEHOLD}
    assert projection.home_location is None


def test_age_is_projected_as_a_band() -> None:
    assert policy.age_band(1985, today=timezone.localdate().replace(year=2026)) == "40-49"


def test_withdrawn_consent_hides_the_places_from_that_purpose_at_once(full_resident) -> None:
    withdraw(full_resident, purpose="disaster_warnings")
    projection = policy.read_profile(
        resident_id=full_resident.pk,
        purpose="disaster_warnings",
        reader=SCORER,
        categories=EVERYTHING,
    )
    assert projection.categories == frozenset()
    assert projection.places == ()


def test_expired_consent_reads_nothing(full_resident) -> None:
    later = timezone.now() + timedelta(days=366)
    assert Category.HOUSEHOLD in policy.allowed_categories(
        resident_id=full_resident.pk, purpose="school_letters"
    )
    assert (
        policy.allowed_categories(resident_id=full_resident.pk, purpose="school_letters", now=later)
        == frozenset()
    )


def test_recipient_not_named_in_the_terms_reads_nothing(full_resident) -> None:
    assert (
        policy.allowed_categories(
            resident_id=full_resident.pk, purpose="disaster_warnings", recipient="operator"
        )
        == frozenset()
    )
    assert Category.PLACES in policy.allowed_categories(
        resident_id=full_resident.pk, purpose="disaster_warnings", recipient="city"
    )


def test_materially_changed_terms_hide_the_categories_until_the_resident_agrees_again(
    full_resident,
) -> None:
    new = publish_material_change("disaster_warnings")
    assert (
        policy.allowed_categories(resident_id=full_resident.pk, purpose="disaster_warnings")
        == frozenset()
    )

    consent_grant(
        resident=full_resident,
        terms_id=new.pk,
        category_codes=["places"],
        actor=Actor.resident(full_resident),
    )
    assert policy.allowed_categories(resident_id=full_resident.pk, purpose="disaster_warnings") == {
        "places"
    }


def test_an_editorial_terms_change_keeps_earlier_consents_usable(full_resident) -> None:
    publish_wording_change("disaster_warnings", requires_reconsent=False)
    assert Category.PLACES in policy.allowed_categories(
        resident_id=full_resident.pk, purpose="disaster_warnings"
    )


def test_every_read_that_returns_data_is_written_to_the_data_use_log(full_resident) -> None:
    policy.read_profile(
        resident_id=full_resident.pk, purpose="school_letters", reader=SCORER, categories=EVERYTHING
    )
    (entry,) = DataUseEvent.objects.filter(resident=full_resident)
    assert entry.purpose_code == "school_letters"
    assert entry.category_codes == ["household"]
    assert (entry.reader_kind, entry.reader_name) == ("task", "test scorer")


def test_a_read_of_a_resident_without_consent_returns_nothing_and_logs_nothing() -> None:
    resident = UserFactory.create()
    projection = policy.read_profile(
        resident_id=resident.pk, purpose="personalised_home", reader=SCORER, categories=EVERYTHING
    )
    assert projection.categories == frozenset()
    assert not DataUseEvent.objects.exists()


def test_bulk_read_takes_a_fixed_number_of_queries_and_logs_every_resident(
    django_assert_max_num_queries,
) -> None:
    district, school = DistrictFactory.create(), SchoolFactory.create()
    residents = UserFactory.create_batch(30)
    for resident in residents:
        grant_everything(resident)
        fill_profile(resident.pk, district=district, school=school)
    ids = [r.pk for r in residents]

    with django_assert_max_num_queries(12):
        projections = policy.read_profiles(
            resident_ids=ids, purpose="personalised_home", reader=SCORER, categories=EVERYTHING
        )

    assert all(projections[i].places and projections[i].interests == ("sports",) for i in ids)
    assert DataUseEvent.objects.filter(purpose_code="personalised_home").count() == 30


def test_bulk_read_splits_large_id_lists_into_chunks(monkeypatch) -> None:
    monkeypatch.setattr(policy, "BULK_CHUNK", 7)
    residents = UserFactory.create_batch(20)
    for resident in residents:
        grant(resident, "personalised_home", "interests")
        profile_services.profile_set_interests(resident_id=resident.pk, interest_codes=["events"])
    projections = policy.read_profiles(
        resident_ids=[r.pk for r in residents],
        purpose="personalised_home",
        reader=SCORER,
        categories=EVERYTHING,
    )
    assert {p.interests for p in projections.values()} == {("events",)}


# --- property: the projection never holds a category without an active consent -----------------

consent_states = st.dictionaries(
    keys=st.sampled_from(PurposeCode.values),
    values=st.frozensets(st.sampled_from(Category.values)),
)
withdrawals = st.lists(
    st.tuples(st.sampled_from(PurposeCode.values), st.sampled_from(Category.values)), max_size=4
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    granted=consent_states,
    withdrawn=withdrawals,
    stored=st.frozensets(st.sampled_from(Category.values)),
    purpose=st.sampled_from(PurposeCode.values),
    asked=st.frozensets(st.sampled_from(Category.values), min_size=1),
)
def test_projection_never_contains_a_category_without_an_active_consent(
    granted, withdrawn, stored, purpose, asked
) -> None:
    """Both the per-resident read and the range read see exactly the asked categories an
    active consent covers, and each read is counted in the log under those categories."""
    resident = UserFactory.create()
    for purpose_code, categories in granted.items():
        covered = sorted(set(categories) & set(terms_of(purpose_code).category_codes))
        if covered:
            grant(resident, purpose_code, *covered)
    district = Area.objects.filter(kind="district").first() or DistrictFactory.create()
    school = School.objects.first() or SchoolFactory.create()
    _store_what_may_be_stored(resident.pk, stored, district=district, school=school)
    for purpose_code, category in withdrawn:
        withdraw(resident, purpose=purpose_code, category=category)

    projection = policy.read_profile(
        resident_id=resident.pk, purpose=purpose, reader=SCORER, categories=asked
    )
    chunks = list(
        policy.iter_profile_chunks(
            purpose=purpose, reader=SCORER, categories=asked, id_range=(resident.pk, resident.pk)
        )
    )

    expected = set(granted.get(purpose, frozenset())) & set(terms_of(purpose).category_codes)
    expected -= {category for p, category in withdrawn if p == purpose}
    expected &= asked
    assert projection.categories == expected
    assert categories_present(projection) <= expected
    if expected:
        (chunk,) = chunks
        assert chunk.projections() == {resident.pk: projection}
    else:
        assert chunks == []
    uses = DataUseEvent.objects.filter(resident=resident)
    assert sum(use.use_count for use in uses) == (2 if expected else 0)
    assert all(set(use.category_codes) == expected for use in uses)


def _store_what_may_be_stored(
    resident_id: int, wanted: frozenset[str], *, district: Area, school: School
) -> None:
    """Store one attribute of each wanted category the resident has some consent for."""
    writers = {
        Category.AGE: lambda: profile_services.profile_set_birth_year(
            resident_id=resident_id, birth_year=1990
        ),
        Category.PLACES: lambda: profile_services.place_add(
            resident_id=resident_id, kind="work", area_code=district.code
        ),
        Category.HOUSEHOLD: lambda: profile_services.child_add(
            resident_id=resident_id, school_code=school.code, grade=1
        ),
        Category.INTERESTS: lambda: profile_services.profile_set_interests(
            resident_id=resident_id, interest_codes=["events"]
        ),
        Category.LANGUAGE: lambda: profile_services.profile_set_language(
            resident_id=resident_id, preferred_language="ja", large_text=False, easy_japanese=True
        ),
        Category.LOCATION: lambda: profile_services.profile_set_home_location(
            resident_id=resident_id, latitude=Decimal("37.5"), longitude=Decimal("139.9")
        ),
    }
    for category, write in writers.items():
        if category in wanted and policy.may_store(resident_id=resident_id, category=category):
            write()


def test_current_terms_exist_for_every_purpose() -> None:
    assert all(current_terms(purpose_code=p) for p in PurposeCode.values)


def test_a_large_bulk_read_logs_each_resident_with_exactly_its_categories(monkeypatch) -> None:
    """On PostgreSQL large logs are written with COPY; the rows must be the same as INSERT's."""
    monkeypatch.setattr(policy, "COPY_THRESHOLD", 3)
    residents = UserFactory.create_batch(8)
    for index, resident in enumerate(residents):
        categories = ["places", "interests"] if index % 2 else ["places"]
        grant(resident, "personalised_home", *categories)
    staff = StaffFactory.create()
    reader = Reader(kind="staff", name="planning export", recipient="city", staff_id=staff.pk)

    policy.read_profiles(
        resident_ids=[r.pk for r in residents],
        purpose="personalised_home",
        reader=reader,
        categories=EVERYTHING,
    )

    rows = {
        use.resident_id: use
        for use in DataUseEvent.objects.filter(purpose_code="personalised_home")
    }
    assert set(rows) == {r.pk for r in residents}
    for index, resident in enumerate(residents):
        use = rows[resident.pk]
        assert use.category_codes == (["interests", "places"] if index % 2 else ["places"])
        assert (use.reader_kind, use.reader_name, use.staff_account_id) == (
            "staff",
            "planning export",
            staff.pk,
        )
        assert use.use_count == 1
        assert use.first_at == use.last_at


def test_purposes_see_the_age_band_but_never_the_birth_year(full_resident) -> None:
    projection = policy.read_profile(
        resident_id=full_resident.pk,
        purpose="personalised_home",
        reader=SCORER,
        categories=EVERYTHING,
    )
    assert projection.age_band is not None
    assert projection.birth_year is None
    own = policy.read_own_data(resident_id=full_resident.pk)
    assert own.birth_year == 1985


def test_a_read_on_behalf_of_a_recipient_the_consent_does_not_name_gets_nothing(
    full_resident,
) -> None:
    operator_task = Reader(kind="task", name="operator scorer", recipient="operator")
    projection = policy.read_profile(
        resident_id=full_resident.pk,
        purpose="disaster_warnings",
        reader=operator_task,
        categories=EVERYTHING,
    )
    assert projection.categories == frozenset()
    assert not DataUseEvent.objects.filter(purpose_code="disaster_warnings").exists()


def test_the_data_use_log_says_on_whose_behalf_the_data_was_read(full_resident) -> None:
    operator_task = Reader(kind="task", name="operator scorer", recipient="operator")
    policy.read_profile(
        resident_id=full_resident.pk,
        purpose="personalised_home",
        reader=operator_task,
        categories=EVERYTHING,
    )
    assert DataUseEvent.objects.get(purpose_code="personalised_home").recipient_code == "operator"
