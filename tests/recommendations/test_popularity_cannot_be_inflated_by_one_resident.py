"""Review (attack): the anonymous counts behind popularity (a feature of every resident's score)
take one resident's repeated opens and save/unsave cycles as many residents' — one account can
push a notice up everyone's home page ("Many residents opened or saved it")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.residents import services as profile_services
from recommendations import services
from recommendations.features import popularity_scale
from recommendations.models import NoticeEngagement
from recommendations.selectors import notice_engagement, stored_feed
from recommendations.services import engagement_counts, feeds_rescore
from tests.factories import DistrictFactory, NoticeFactory, UserFactory
from tests.helpers import grant

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_pages")]


def resident_of(district, *categories: str):
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places", *categories)
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    return resident


def test_one_resident_opening_a_notice_many_times_counts_as_one_open(client) -> None:
    resident = resident_of(DistrictFactory.create(), "interactions")
    notice = NoticeFactory.create()
    feeds_rescore(id_range=(resident.pk, resident.pk))
    client.force_login(resident)

    for _ in range(30):
        client.get(f"/for-you/{notice.pk}/")

    assert notice_engagement(notice_id=notice.pk).opened <= 1


def test_opens_by_a_resident_who_keeps_no_history_are_not_counted_again_on_every_reload(
    client,
) -> None:
    resident = resident_of(DistrictFactory.create())  # no interaction history shared
    notice = NoticeFactory.create()
    feeds_rescore(id_range=(resident.pk, resident.pk))
    client.force_login(resident)

    for _ in range(30):
        client.get(f"/for-you/{notice.pk}/")

    engagement = notice_engagement(notice_id=notice.pk)
    # More opens than showings: the rate is clipped to 1, the top popularity a notice can get.
    assert engagement.opened <= max(engagement.shown, 1)


def test_saving_and_unsaving_in_a_loop_counts_one_save(client) -> None:
    resident = resident_of(DistrictFactory.create(), "interactions")
    notice = NoticeFactory.create()
    feeds_rescore(id_range=(resident.pk, resident.pk))
    client.force_login(resident)

    for _ in range(10):
        client.post(f"/for-you/{notice.pk}/save/")
        client.post(f"/for-you/{notice.pk}/unsave/")

    assert notice_engagement(notice_id=notice.pk).saved <= 1


def test_one_resident_cannot_put_a_notice_above_another_residents_better_match(client) -> None:
    """Two notices for everyone, the same age; another resident's list ranks the newer first.
    One account reloading the older one must not turn that order round."""
    district = DistrictFactory.create()
    attacker = resident_of(district, "interactions")
    victim = resident_of(district)
    newer = NoticeFactory.create(
        title_ja="新しい", published_at=timezone.now() - timedelta(hours=1)
    )
    older = NoticeFactory.create(title_ja="古い", published_at=timezone.now() - timedelta(hours=30))
    # A city's ordinary counts: each shown to a hundred residents, a tenth of them opened it.
    for notice in (newer, older):
        NoticeEngagement.objects.create(notice=notice, shown=100, opened=10)
    # ...and the city's earlier notices, no longer shown, set the overall rate (a tenth).
    past = NoticeFactory.create(expires_at=timezone.now() - timedelta(days=1))
    NoticeEngagement.objects.create(notice=past, shown=100_000, opened=10_000)
    feeds_rescore(id_range=(attacker.pk, victim.pk))
    assert [i.notice_id for i in stored_feed(resident_id=victim.pk)] == [newer.pk, older.pk]
    client.force_login(attacker)
    for _ in range(200):
        client.get(f"/for-you/{older.pk}/")

    popularity, _overall = popularity_scale(engagement_counts())
    services._context.clear()  # the hourly rescore runs in a later minute: a fresh context
    feeds_rescore(id_range=(attacker.pk, victim.pk))

    assert [i.notice_id for i in stored_feed(resident_id=victim.pk)] == [newer.pk, older.pk], (
        popularity
    )
