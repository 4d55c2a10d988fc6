"""The recommender's tasks and what enqueues them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.models import OutboxTask, User
from portal.residents import services as profile_services
from recommendations.models import StoredFeed
from recommendations.services import feeds_rescore, rescore_ranges
from recommendations.tasks import rescore_everyone, rescore_range, rescore_resident
from tests.factories import DistrictFactory, NoticeFactory, UserFactory
from tests.helpers import grant, withdraw

pytestmark = pytest.mark.django_db


def sharing_resident() -> User:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "interests")
    return resident


def test_narrowing_consent_for_the_home_page_enqueues_a_rescore_of_the_resident() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places", "interests")
    profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=DistrictFactory.create().code
    )
    OutboxTask.objects.all().delete()  # what the grant and the new place enqueued

    withdraw(resident, category="places")

    queued = OutboxTask.objects.filter(task_name="recommendations.rescore_resident")
    assert [task.kwargs for task in queued] == [{"resident_id": resident.pk}]


def test_narrowing_consent_for_another_purpose_enqueues_nothing_of_the_recommenders() -> None:
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places")

    withdraw(resident, purpose="disaster_warnings")

    assert not OutboxTask.objects.filter(task_name__startswith="recommendations.").exists()


def rescores_queued() -> list[dict[str, object]]:
    return [
        task.kwargs
        for task in OutboxTask.objects.filter(task_name="recommendations.rescore_resident")
    ]


def test_granting_consent_for_the_home_page_enqueues_a_rescore_of_the_resident() -> None:
    resident = UserFactory.create()

    grant(resident, "personalised_home", "places")

    assert rescores_queued() == [{"resident_id": resident.pk}]


def test_granting_consent_for_another_purpose_enqueues_no_rescore() -> None:
    resident = UserFactory.create()

    grant(resident, "disaster_warnings", "places")

    assert rescores_queued() == []


def test_a_new_place_enqueues_a_rescore_of_the_resident() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    OutboxTask.objects.all().delete()

    profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=DistrictFactory.create().code
    )

    assert rescores_queued() == [{"resident_id": resident.pk}]


def test_a_new_birth_year_enqueues_a_rescore_of_the_resident() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "age")
    OutboxTask.objects.all().delete()

    profile_services.profile_set_birth_year(resident_id=resident.pk, birth_year=1980)

    assert rescores_queued() == [{"resident_id": resident.pk}]


def test_a_change_the_scorer_does_not_use_enqueues_no_rescore() -> None:
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "location")
    OutboxTask.objects.all().delete()

    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.49"), longitude=Decimal("139.93")
    )

    assert rescores_queued() == []


def test_a_refused_write_enqueues_no_rescore() -> None:
    resident = UserFactory.create()

    with pytest.raises(profile_services.ProfileError):
        profile_services.profile_set_birth_year(resident_id=resident.pk, birth_year=1980)

    assert rescores_queued() == []


def test_the_rescore_covers_everyone_who_shares_in_ranges_of_the_size_asked() -> None:
    residents = [sharing_resident() for _ in range(5)]
    UserFactory.create()  # shares nothing

    ranges = rescore_ranges(size=2)

    assert len(ranges) == 3
    assert ranges[0][0] == residents[0].pk and ranges[-1][1] == residents[-1].pk


def test_feeds_of_residents_outside_every_range_are_dropped() -> None:
    NoticeFactory.create()
    leaving, staying = sharing_resident(), sharing_resident()
    feeds_rescore(id_range=(leaving.pk, staying.pk))
    withdraw(leaving, purpose="personalised_home")

    rescore_ranges(size=10)

    assert list(StoredFeed.objects.values_list("resident_id", flat=True)) == [staying.pk]


def test_the_tasks_run_the_rescore_and_running_twice_changes_nothing() -> None:
    NoticeFactory.create()
    resident = sharing_resident()

    assert rescore_resident.run(resident.pk) == 1
    first = StoredFeed.objects.get(resident_id=resident.pk).entries
    assert rescore_range.run(resident.pk, resident.pk) == 1

    assert StoredFeed.objects.get(resident_id=resident.pk).entries == first


def test_rescoring_everyone_sends_one_range_task_per_range(monkeypatch) -> None:
    sent: list[object] = []
    monkeypatch.setattr(
        "celery.canvas.group.apply_async",
        lambda self, *a, **k: sent.extend(task.args for task in self.tasks),
    )
    for _ in range(3):
        sharing_resident()

    assert rescore_everyone.run() == 1
    assert len(sent) == 1
