"""Review (attack): what the "for you" list shows between a withdrawal and the rescore it
queues (the worker may be slow, down, or the task waiting in the outbox).

The stored feed is derived from what the resident shared; the page reads it with no check of
the resident's consent now, so until the worker runs the resident keeps a list ranked (and
filtered: notices aimed at their area alone) from data they stopped sharing, and "Why this?"
falls back to "nothing you share was needed to show it" — a false statement.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.residents import services as profile_services
from recommendations.services import feeds_rescore
from tests.factories import DistrictFactory, NoticeFactory, UserFactory
from tests.helpers import grant, withdraw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_pages")]

FOR_EVERYONE = "nothing you share was needed to show it"


def resident_of(district, *categories: str):
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places", *categories)
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    return resident


def test_a_notice_shown_only_because_of_withdrawn_places_never_claims_nothing_shared_was_needed(
    client,
) -> None:
    district = DistrictFactory.create(name_en="Kitaaizu")
    resident = resident_of(district, "interests")
    # A week old (not "new"), information only (not "urgent"): the area is its only reason.
    aimed = NoticeFactory.create(
        title_ja="北会津だけのお知らせ",
        is_public=False,
        published_at=timezone.now() - timedelta(days=7),
    )
    aimed.areas.add(district)
    feeds_rescore(id_range=(resident.pk, resident.pk))
    withdraw(resident, category="places")  # the rescore is queued, not run yet
    client.force_login(resident)

    html = client.get("/").content.decode()

    # The feed ranked from the places went with them: neither the notice nor a claim about it.
    assert "北会津だけのお知らせ" not in html
    assert FOR_EVERYONE not in html


def test_after_withdrawing_the_whole_home_page_purpose_the_list_is_not_personalised(
    client,
) -> None:
    """Nothing is shared for the home page any more: the page must show the city's own order,
    not a list ranked and filtered by the places the resident withdrew (worker not run)."""
    district = DistrictFactory.create(name_en="Kitaaizu")
    resident = resident_of(district)
    aimed = NoticeFactory.create(title_ja="北会津だけのお知らせ", is_public=False)
    aimed.areas.add(district)
    feeds_rescore(id_range=(resident.pk, resident.pk))
    withdraw(resident, purpose="personalised_home")
    client.force_login(resident)

    html = client.get("/").content.decode()

    assert "北会津だけのお知らせ" not in html
    assert "the same for everyone" in html


def test_after_withdrawing_the_home_page_purpose_a_notice_aimed_by_withdrawn_data_cannot_be_opened(
    client,
) -> None:
    district = DistrictFactory.create()
    resident = resident_of(district)
    aimed = NoticeFactory.create(title_ja="北会津だけ", body_ja="非公開の本文", is_public=False)
    aimed.areas.add(district)
    feeds_rescore(id_range=(resident.pk, resident.pk))
    withdraw(resident, purpose="personalised_home")
    client.force_login(resident)

    assert client.get(f"/for-you/{aimed.pk}/").status_code == 404


def test_why_this_does_not_name_a_place_the_resident_has_removed(client) -> None:
    """The place is removed (a profile change: rescore queued, not run): "Why this?" must not
    still say the area is one of the resident's places."""
    district = DistrictFactory.create(name_en="Kitaaizu")
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    place = profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=district.code
    )
    aimed = NoticeFactory.create(title_ja="北会津のお知らせ", is_public=False)
    aimed.areas.add(district)
    feeds_rescore(id_range=(resident.pk, resident.pk))
    profile_services.place_remove(resident_id=resident.pk, place_id=place.pk)
    client.force_login(resident)

    html = client.get("/").content.decode()

    assert "where one of your places is" not in html
