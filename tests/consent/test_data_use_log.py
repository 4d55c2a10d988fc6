"""The data-use log: a row per (resident, purpose, recipient, reader, day) counting its reads,
upserted in bulk, and pruned in batches."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from consent import policy
from consent.catalogue import category_mask
from consent.models import DataUseEvent
from consent.policy import Reader
from consent.services import data_use_log_prune
from consent.tasks import prune_data_use_log
from tests.factories import StaffFactory, UserFactory
from tests.helpers import grant

pytestmark = pytest.mark.django_db

SCORER = Reader(kind="task", name="test scorer", recipient="city")
HOME = "personalised_home"


def read_range(categories: list[str], *, reader: Reader = SCORER) -> None:
    for _chunk in policy.iter_profile_chunks(
        purpose=HOME, reader=reader, categories=categories, id_range=(1, 2**31 - 1)
    ):
        pass


def at(moment: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: moment)


@pytest.fixture(params=["row by row", "COPY"])
def upsert_path(request, monkeypatch) -> str:
    """Both ways of writing the log; COPY applies on PostgreSQL only (elsewhere both params
    take the row-by-row path)."""
    if request.param == "COPY":
        monkeypatch.setattr(policy, "COPY_THRESHOLD", 0)
    return request.param


def test_two_reads_on_one_day_leave_one_row_per_resident(upsert_path) -> None:
    residents = UserFactory.create_batch(3)
    for resident in residents:
        grant(resident, HOME, "places")

    read_range(["places"])
    read_range(["places"])

    uses = DataUseEvent.objects.order_by("resident_id")
    assert [use.resident_id for use in uses] == sorted(r.pk for r in residents)
    assert {use.use_count for use in uses} == {2}


def test_a_day_row_keeps_the_first_and_last_time_and_every_category_read(
    upsert_path, monkeypatch
) -> None:
    resident = UserFactory.create()
    grant(resident, HOME, "places", "interests")
    morning = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)  # 09:30 in Tokyo
    evening = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # 20:00 in Tokyo

    at(evening, monkeypatch)
    read_range(["places"])
    at(morning, monkeypatch)
    read_range(["interests"])

    (use,) = DataUseEvent.objects.all()
    assert (use.first_at, use.last_at) == (morning, evening)
    assert use.category_codes == ["interests", "places"]
    assert use.use_count == 2


def test_the_day_of_a_use_is_the_day_in_the_portals_time_zone(monkeypatch) -> None:
    resident = UserFactory.create()
    grant(resident, HOME, "places")
    at(datetime(2026, 12, 1, 15, 30, tzinfo=UTC), monkeypatch)  # 00:30 on 2 December in Tokyo

    read_range(["places"])

    assert DataUseEvent.objects.get().day == date(2026, 12, 2)


def test_reads_on_another_day_get_a_row_of_their_own(upsert_path, monkeypatch) -> None:
    resident = UserFactory.create()
    grant(resident, HOME, "places")
    first = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)

    at(first, monkeypatch)
    read_range(["places"])
    at(first + timedelta(days=1), monkeypatch)
    read_range(["places"])

    assert list(DataUseEvent.objects.order_by("day").values_list("day", "use_count")) == [
        (date(2026, 12, 2), 1),
        (date(2026, 12, 3), 1),
    ]


def test_each_reader_recipient_and_staff_member_is_counted_apart(upsert_path) -> None:
    resident = UserFactory.create()
    grant(resident, HOME, "places")
    first, second = StaffFactory.create_batch(2)
    readers = [
        SCORER,
        Reader(kind="task", name="another scorer", recipient="city"),
        Reader(kind="task", name="test scorer", recipient="operator"),
        Reader(kind="staff", name="statistics export", recipient="city", staff_id=first.pk),
        Reader(kind="staff", name="statistics export", recipient="city", staff_id=second.pk),
    ]

    for reader in readers:
        read_range(["places"], reader=reader)
    read_range(["places"], reader=readers[-1])

    counts = sorted(DataUseEvent.objects.values_list("use_count", flat=True))
    assert counts == [1, 1, 1, 1, 2]


def test_only_the_categories_asked_and_allowed_are_logged(upsert_path) -> None:
    resident = UserFactory.create()
    grant(resident, HOME, "age", "places")

    read_range(["places", "interests"])

    assert DataUseEvent.objects.get().category_mask == category_mask(["places"])


def test_an_unknown_reader_kind_writes_nothing() -> None:
    resident = UserFactory.create()
    grant(resident, HOME, "places")
    with pytest.raises(ValueError):
        read_range(["places"], reader=Reader(kind="robot", name="x", recipient="city"))  # type: ignore[arg-type]
    assert not DataUseEvent.objects.exists()


# --- pruning ----------------------------------------------------------------------------------


def log_row(resident, day: date) -> DataUseEvent:
    moment = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)
    return DataUseEvent.objects.create(
        resident=resident,
        purpose_code=HOME,
        recipient_code="city",
        reader_kind="task",
        reader_name=f"scorer {day}",
        day=day,
        category_mask=category_mask(["places"]),
        use_count=1,
        first_at=moment,
        last_at=moment,
    )


def test_pruning_removes_only_the_days_before_the_cutoff_across_several_batches() -> None:
    resident = UserFactory.create()
    cutoff = date(2026, 6, 1)
    old = [log_row(resident, cutoff - timedelta(days=n)) for n in range(1, 8)]
    kept = [log_row(resident, cutoff + timedelta(days=n)) for n in range(3)]

    deleted = data_use_log_prune(before=cutoff, batch_size=3)

    assert deleted == len(old)
    assert set(DataUseEvent.objects.values_list("pk", flat=True)) == {row.pk for row in kept}


def test_the_prune_task_keeps_the_retention_period(settings) -> None:
    settings.DATA_USE_LOG_RETENTION_DAYS = 30
    resident = UserFactory.create()
    today = timezone.localdate()
    log_row(resident, today - timedelta(days=31))
    recent = log_row(resident, today - timedelta(days=30))

    assert prune_data_use_log(batch_size=1) == 1
    assert list(DataUseEvent.objects.values_list("pk", flat=True)) == [recent.pk]
