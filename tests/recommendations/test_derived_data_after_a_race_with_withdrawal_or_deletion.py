"""Review (attack): a range rescore or fan-out reads a chunk through the gate, then writes it
later. A withdrawal (or an account deletion) committed in between is not seen by the write:

- the per-resident rescore the withdrawal queues may run (and finish) before the range's
  write, which then puts back a feed ranked from the withdrawn data, kept until the next hourly
  rescore (longer if the worker is down);
- StoredFeed and FeedAddition have no database foreign key, so the write of a resident deleted
  meanwhile succeeds and leaves derived rows of an erased account.

Each test plays the interleaving by running the other side just before the write.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.models import User
from portal.residents import services as profile_services
from portal.residents.services import account_delete
from recommendations import services
from recommendations.models import FeedAddition, StoredFeed
from recommendations.services import feeds_fan_out, feeds_rescore
from tests.factories import DistrictFactory, NoticeFactory, UserFactory
from tests.helpers import grant, withdraw

pytestmark = pytest.mark.django_db


def resident_in(district) -> User:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    return resident


def before_write(monkeypatch, name: str, meanwhile) -> None:
    """Run ``meanwhile`` once, after the chunk was read and before ``services.<name>`` writes."""
    original = getattr(services, name)
    done: list[bool] = []

    def racing(*args, **kwargs):
        if not done:
            done.append(True)
            meanwhile()
        return original(*args, **kwargs)

    monkeypatch.setattr(services, name, racing)


def test_a_range_rescore_does_not_put_back_a_feed_withdrawn_while_it_ran(monkeypatch) -> None:
    district = DistrictFactory.create()
    other = resident_in(district)
    resident = resident_in(district)
    aimed = NoticeFactory.create(is_public=False)
    aimed.areas.add(district)

    def withdrawal_and_its_rescore() -> None:
        withdraw(resident, purpose="personalised_home")
        feeds_rescore(id_range=(resident.pk, resident.pk))  # the queued task, run at once

    before_write(monkeypatch, "_replace_feeds", withdrawal_and_its_rescore)
    feeds_rescore(id_range=(other.pk, resident.pk))

    assert not StoredFeed.objects.filter(resident_id=resident.pk).exists()


def test_a_range_rescore_leaves_no_feed_of_an_account_deleted_while_it_ran(monkeypatch) -> None:
    district = DistrictFactory.create()
    other = resident_in(district)
    resident = resident_in(district)
    NoticeFactory.create()
    gone = resident.pk

    before_write(monkeypatch, "_replace_feeds", lambda: account_delete(user=resident))
    feeds_rescore(id_range=(other.pk, gone))

    assert not User.objects.filter(pk=gone).exists()
    assert not StoredFeed.objects.filter(resident_id=gone).exists()


def test_a_fan_out_leaves_no_addition_of_an_account_deleted_while_it_ran(monkeypatch) -> None:
    district = DistrictFactory.create()
    resident = resident_in(district)
    NoticeFactory.create(published_at=timezone.now() - timedelta(days=3))
    feeds_rescore(id_range=(resident.pk, resident.pk))
    new = NoticeFactory.create()
    new.areas.add(district)
    gone = resident.pk

    before_write(monkeypatch, "_replace_additions", lambda: account_delete(user=resident))
    feeds_fan_out(notice_id=new.pk, id_range=(gone, gone))

    assert not FeedAddition.objects.filter(resident_id=gone).exists()
