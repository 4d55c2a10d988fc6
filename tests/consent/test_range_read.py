"""The gate's range read: residents streamed by id range, as columns, a chunk at a time."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent import policy
from consent.catalogue import category_mask
from consent.models import DataUseEvent
from consent.policy import Reader
from consent.selectors import resident_id_ranges
from consent.services import terms_publish
from portal.models import User
from portal.residents import services as profile_services
from tests.factories import DistrictFactory, SchoolFactory, UserFactory
from tests.helpers import grant, terms_of, withdraw

pytestmark = pytest.mark.django_db

SCORER = Reader(kind="task", name="test scorer", recipient="city")
HOME = "personalised_home"


def everyone() -> tuple[int, int]:
    return (1, 2**31 - 1)


def read_all(*, categories: list[str], reader: Reader = SCORER, purpose: str = HOME, **kwargs):
    return list(
        policy.iter_profile_chunks(
            purpose=purpose, reader=reader, categories=categories, id_range=everyone(), **kwargs
        )
    )


def residents_sharing(count: int, purpose: str, *categories: str) -> list[User]:
    residents = UserFactory.create_batch(count)
    for resident in residents:
        grant(resident, purpose, *categories)
    return residents


def test_only_residents_with_a_grant_for_the_purpose_are_read() -> None:
    (sharing,) = residents_sharing(1, HOME, "places")
    UserFactory.create()
    residents_sharing(1, "disaster_warnings", "places")

    (chunk,) = read_all(categories=["places"])

    assert chunk.resident_ids == [sharing.pk]


def test_a_range_read_reads_only_residents_inside_its_range() -> None:
    residents = residents_sharing(5, HOME, "places")
    ids = sorted(r.pk for r in residents)

    chunks = list(
        policy.iter_profile_chunks(
            purpose=HOME, reader=SCORER, categories=["places"], id_range=(ids[1], ids[3])
        )
    )

    assert [i for chunk in chunks for i in chunk.resident_ids] == ids[1:4]
    assert set(DataUseEvent.objects.values_list("resident_id", flat=True)) == set(ids[1:4])


def test_chunks_hold_at_most_the_chunk_size_in_id_order_and_miss_no_one() -> None:
    residents = residents_sharing(4, HOME, "age", "places", "interests")
    residents += residents_sharing(3, HOME, "places")  # fewer rows each: chunks cut elsewhere

    chunks = read_all(categories=["age", "places", "interests"], chunk_size=3)

    assert all(len(chunk) <= 3 for chunk in chunks)
    read = [i for chunk in chunks for i in chunk.resident_ids]
    assert read == sorted(r.pk for r in residents)


def test_a_chunk_takes_the_same_range_queries_however_many_residents_it_holds() -> None:
    residents_sharing(12, HOME, "age", "places", "interests")
    asked = ["age", "places", "interests"]

    with CaptureQueriesContext(connection) as big:
        (chunk,) = read_all(categories=asked, chunk_size=12)
    with CaptureQueriesContext(connection) as small:
        chunks = read_all(categories=asked, chunk_size=4)

    assert len(chunk) == 12 and len(chunks) == 3
    catalogue = 2  # the purpose's and the categories' ids, once per read
    per_chunk = len(big) - catalogue
    assert len(small) - catalogue == 3 * per_chunk
    id_lists = [q["sql"] for q in small if re.search(r'"resident_id" IN \(\d', q["sql"])]
    assert id_lists == []


def test_only_the_columns_of_the_categories_asked_for_are_filled() -> None:
    (resident,) = residents_sharing(1, HOME, "age", "places", "interests")
    profile_services.profile_set_birth_year(resident_id=resident.pk, birth_year=1980)

    (chunk,) = read_all(categories=["places"])

    assert chunk.place_area_ids == []
    assert chunk.age_bands is None
    assert chunk.interest_codes is None
    assert chunk.allowed_masks == [category_mask(["places"])]


def test_columns_put_each_residents_values_at_their_row() -> None:
    district = DistrictFactory.create()
    first, second = residents_sharing(2, HOME, "age", "places", "interests")
    profile_services.profile_set_birth_year(resident_id=first.pk, birth_year=1990)
    profile_services.profile_set_interests(resident_id=second.pk, interest_codes=["events"])
    for kind in ("home", "work"):
        profile_services.place_add(resident_id=second.pk, kind=kind, area_code=district.code)

    (chunk,) = read_all(categories=["age", "places", "interests"])

    assert chunk.resident_ids == [first.pk, second.pk]
    assert chunk.age_bands == [policy.age_band(1990), None]
    assert chunk.place_resident_index == [1, 1]
    assert chunk.place_kinds == ["home", "work"]
    assert chunk.place_area_ids == [district.pk, district.pk]
    assert (chunk.interest_resident_index, chunk.interest_codes) == ([1], ["events"])


def test_children_are_columns_of_school_and_grade() -> None:
    school = SchoolFactory.create()
    _without, parent = residents_sharing(2, "school_letters", "household")
    profile_services.child_add(resident_id=parent.pk, school_code=school.code, grade=3)

    (chunk,) = read_all(categories=["household"], purpose="school_letters")

    assert chunk.child_resident_index == [1]
    assert (chunk.child_school_ids, chunk.child_grades) == ([school.pk], [3])


def test_a_category_granted_to_another_purpose_only_is_not_read() -> None:
    (resident,) = residents_sharing(1, HOME, "places")
    grant(resident, "disaster_warnings", "location")
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.49"), longitude=Decimal("139.93")
    )

    (chunk,) = read_all(categories=["places", "location"])

    assert chunk.home_latitudes == [None]
    assert chunk.allowed_masks == [category_mask(["places"])]


def test_expired_consents_and_consents_under_replaced_terms_are_not_read() -> None:
    residents_sharing(1, "school_letters", "household")
    residents_sharing(1, "disaster_warnings", "places")
    old = terms_of("disaster_warnings")
    terms_publish(
        purpose_code="disaster_warnings",
        category_codes=old.category_codes,
        recipient_codes=[*old.recipient_codes, "operator"],
        text_ja=old.text_ja + "（変更）",
        text_en=old.text_en + " (changed)",
        retention_days=old.retention_days,
        valid_days=old.valid_days,
        withdrawal_method_ja=old.withdrawal_method_ja,
        withdrawal_method_en=old.withdrawal_method_en,
    )

    assert read_all(categories=["places"], purpose="disaster_warnings") == []
    assert read_all(categories=["household"], purpose="school_letters")
    with pytest.MonkeyPatch.context() as patch:
        later = timezone.now() + timedelta(days=366)
        patch.setattr(timezone, "now", lambda: later)
        assert read_all(categories=["household"], purpose="school_letters") == []


def test_a_read_on_behalf_of_a_recipient_the_terms_do_not_name_reads_no_one() -> None:
    residents_sharing(2, "disaster_warnings", "places")
    operator = Reader(kind="task", name="operator scorer", recipient="operator")

    assert read_all(categories=["places"], purpose="disaster_warnings", reader=operator) == []
    assert not DataUseEvent.objects.exists()


def test_unknown_categories_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown data categories"):
        read_all(categories=["shoe_size"])


def test_a_read_must_name_the_categories_it_needs() -> None:
    with pytest.raises(ValueError, match="name the data categories"):
        read_all(categories=[])


def test_a_reader_must_say_on_whose_behalf_it_reads() -> None:
    with pytest.raises(TypeError):
        Reader(kind="task", name="scorer")  # type: ignore[call-arg]


def test_a_chunk_gives_the_same_projections_as_the_per_resident_read() -> None:
    district = DistrictFactory.create()
    residents = residents_sharing(3, HOME, "age", "places", "interests")
    for resident in residents:
        profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
        profile_services.profile_set_interests(resident_id=resident.pk, interest_codes=["snow"])
    asked = ["age", "places", "interests"]

    (chunk,) = read_all(categories=asked)
    projections = policy.read_profiles(
        resident_ids=[r.pk for r in residents], purpose=HOME, reader=SCORER, categories=asked
    )

    assert chunk.projections() == projections


# --- one snapshot per chunk ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_chunks_permission_and_attributes_are_read_in_one_transaction(monkeypatch) -> None:
    """On SQLite a transaction is a snapshot; on PostgreSQL it is a REPEATABLE READ one."""
    residents_sharing(2, HOME, "places")
    seen: list[bool] = []
    monkeypatch.setattr(
        policy, "_after_permission_query", lambda: seen.append(connection.in_atomic_block)
    )

    read_all(categories=["places"])

    assert seen == [True]
    assert not connection.in_atomic_block


def in_another_connection(work: Callable[[], None]) -> Callable[[], None]:
    """Run ``work`` once, on a thread, hence on a connection of its own, and wait for its
    commit."""
    done: list[bool] = []

    def run() -> None:
        if done:
            return
        done.append(True)
        errors: list[BaseException] = []

        def target() -> None:
            try:
                work()
            except BaseException as error:  # handed to the test's thread
                errors.append(error)
            finally:
                connection.close()

        thread = threading.Thread(target=target)
        thread.start()
        thread.join(timeout=30)
        assert not errors, errors

    return run


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs a second connection committing while a read runs (SQLite would wait)",
)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_committed_during_a_chunk_does_not_mix_into_it(monkeypatch) -> None:
    """The chunk reads as of its permission query: neither the withdrawal nor a place stored
    after it (another purpose still covers places) is read under the stale permission."""
    district = DistrictFactory.create()
    (resident,) = residents_sharing(1, HOME, "places")
    grant(resident, "disaster_warnings", "places")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)

    def withdraw_then_store() -> None:
        withdraw(resident, purpose=HOME, category="places")
        profile_services.place_add(resident_id=resident.pk, kind="work", area_code=district.code)

    monkeypatch.setattr(
        policy, "_after_permission_query", in_another_connection(withdraw_then_store)
    )

    (chunk,) = read_all(categories=["places"])

    assert chunk.allowed_masks == [category_mask(["places"])]
    assert chunk.place_kinds == ["home"]
    assert read_all(categories=["places"]) == []  # the next read sees the withdrawal


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_grant_committed_during_a_chunk_is_not_read_in_it(monkeypatch) -> None:
    (resident,) = residents_sharing(1, HOME, "places")
    monkeypatch.setattr(
        policy,
        "_after_permission_query",
        in_another_connection(lambda: _grant_and_store_interests(resident)),
    )

    (chunk,) = read_all(categories=["places", "interests"])

    assert chunk.interest_codes == []
    (use,) = DataUseEvent.objects.all()
    assert use.category_codes == ["places"]


def _grant_and_store_interests(resident: User) -> None:
    grant(resident, HOME, "interests")
    profile_services.profile_set_interests(resident_id=resident.pk, interest_codes=["events"])


# --- splitting the residents into ranges for range tasks --------------------------------------


def test_ranges_split_the_residents_with_a_grant_into_groups_of_at_most_size() -> None:
    residents = residents_sharing(7, HOME, "places")
    residents_sharing(2, "disaster_warnings", "places")  # another purpose's residents
    ids = sorted(r.pk for r in residents)

    ranges = resident_id_ranges(purpose=HOME, size=3)

    assert ranges == [(ids[0], ids[2]), (ids[2] + 1, ids[5]), (ids[5] + 1, ids[6])]


def test_range_reads_over_the_ranges_read_everyone_once() -> None:
    residents = residents_sharing(5, HOME, "places")

    read = [
        resident_id
        for id_range in resident_id_ranges(purpose=HOME, size=2)
        for chunk in policy.iter_profile_chunks(
            purpose=HOME, reader=SCORER, categories=["places"], id_range=id_range
        )
        for resident_id in chunk.resident_ids
    ]

    assert read == sorted(r.pk for r in residents)


def test_no_residents_with_a_grant_give_no_ranges() -> None:
    assert resident_id_ranges(purpose=HOME, size=10) == []
