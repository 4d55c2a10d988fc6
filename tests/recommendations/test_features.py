"""Both sides of the scorer from the database: notices read directly, residents only through the
consent gate for the personalised home page."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from consent.models import DataUseEvent
from portal.models import Area, InterestTag
from portal.notices.models import SchoolAudience
from portal.residents import services as profile_services
from recommendations.features import (
    POPULARITY_PRIOR_OPTIMISM,
    Vocabulary,
    active_notices,
    notice_side,
    popularity_scale,
    resident_chunks,
    resident_side,
)
from recommendations.scoring import eligibility
from recommendations.text import TextModel
from tests.factories import DistrictFactory, NoticeFactory, SchoolFactory, UserFactory
from tests.helpers import grant

pytestmark = pytest.mark.django_db


def sides(*residents):
    now = timezone.now()
    vocabulary = Vocabulary.load()
    notices = list(active_notices(now=now))
    notice_matrices = notice_side(
        notices, vocabulary=vocabulary, text_model=TextModel.fit([]), popularity={}, now=now
    )
    ids = sorted(resident.pk for resident in residents)
    chunks = list(resident_chunks(id_range=(ids[0], ids[-1]), chunk_size=100))
    resident_matrices = [
        resident_side(
            chunk, notices=notice_matrices, vocabulary=vocabulary, text_model=TextModel.fit([])
        )  # fmt: skip
        for chunk in chunks
    ]
    return notice_matrices, resident_matrices


def neighbourhood_of(district: Area) -> Area:
    return Area.objects.create(
        code=f"{district.code}-n", kind=Area.Kind.NEIGHBOURHOOD, parent=district, name_ja="町内"
    )


def test_a_district_notice_reaches_a_resident_of_one_of_its_neighbourhoods() -> None:
    district = DistrictFactory.create()
    notice = NoticeFactory.create()
    notice.areas.add(district)
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=neighbourhood_of(district).code
    )

    notices, (residents,) = sides(resident)

    assert eligibility(residents, notices).tolist() == [[True]]


def test_the_strongest_place_in_an_area_sets_its_weight_and_a_neighbourhood_its_district() -> None:
    district = DistrictFactory.create()
    neighbourhood = neighbourhood_of(district)
    other = DistrictFactory.create()
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places")
    for kind, area in (("work", district), ("home", neighbourhood), ("family", other)):
        profile_services.place_add(resident_id=resident.pk, kind=kind, area_code=area.code)
    vocabulary = Vocabulary.load()

    _notices, (residents,) = sides(resident)

    weights = residents.areas.toarray()[0]
    assert weights[vocabulary.areas[neighbourhood.pk]] == pytest.approx(1.0)
    assert weights[vocabulary.areas[district.pk]] == pytest.approx(1.0)  # home beats work
    assert weights[vocabulary.areas[other.pk]] == pytest.approx(0.6)
    municipality = district.parent
    assert municipality is not None and other.parent == municipality
    assert weights[vocabulary.areas[municipality.pk]] == pytest.approx(1.0)
    assert residents.areas.nnz == 4  # one cell per area, however many places lie in it


def test_places_shared_for_another_purpose_do_not_count() -> None:
    district = DistrictFactory.create()
    notice = NoticeFactory.create()
    notice.areas.add(district)
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places")
    grant(resident, "personalised_home", "interests")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)

    notices, (residents,) = sides(resident)

    assert residents.areas.nnz == 0
    assert eligibility(residents, notices).tolist() == [[False]]


def test_a_resident_who_shares_nothing_for_the_home_page_is_not_read() -> None:
    NoticeFactory.create()
    sharing, silent = UserFactory.create(), UserFactory.create()
    grant(sharing, "personalised_home", "interests")

    _notices, chunks = sides(sharing, silent)

    assert [chunk.ids.tolist() for chunk in chunks] == [[sharing.pk]]
    assert not DataUseEvent.objects.filter(resident=silent).exists()


def test_the_read_is_logged_for_the_home_page() -> None:
    NoticeFactory.create()
    resident = UserFactory.create()
    grant(resident, "personalised_home", "interests")

    sides(resident)

    use = DataUseEvent.objects.get(resident=resident)
    assert use.purpose_code == "personalised_home"


def test_a_school_letter_audience_matches_the_childs_school_and_grade() -> None:
    school = SchoolFactory.create()
    for grade in (3, 4):
        notice = NoticeFactory.create(category="events")
        SchoolAudience.objects.create(notice=notice, school=school, grade=grade)
    resident = UserFactory.create()
    grant(resident, "personalised_home", "household")
    profile_services.child_add(resident_id=resident.pk, school_code=school.code, grade=3)

    notices, (residents,) = sides(resident)

    assert eligibility(residents, notices).tolist() == [[True, False]]


def test_school_letters_exercises_and_expired_notices_are_not_ranked() -> None:
    NoticeFactory.create(category="school")
    NoticeFactory.create(is_exercise=True)
    NoticeFactory.create(expires_at=timezone.now() - timedelta(minutes=1))
    kept = NoticeFactory.create()

    assert [n.pk for n in active_notices(now=timezone.now())] == [kept.pk]


def test_interaction_history_gives_category_affinity_and_set_aside_notices() -> None:
    snow = NoticeFactory.create(category="snow")
    events = NoticeFactory.create(category="events")
    resident = UserFactory.create()
    grant(resident, "personalised_home", "interactions")
    profile_services.interaction_record(resident_id=resident.pk, notice_id=snow.pk, kind="saved")
    profile_services.interaction_record(
        resident_id=resident.pk, notice_id=events.pk, kind="dismissed"
    )

    notices, (residents,) = sides(resident)

    snow_column = list(notices.ids).index(snow.pk)
    affinity = residents.category_affinity[0]
    assert affinity[notices.categories[snow_column]] == pytest.approx(1.0)
    assert eligibility(residents, notices)[0].tolist() == [
        pk != events.pk for pk in notices.ids.tolist()
    ]


def test_the_notice_side_holds_urgency_recency_and_interests() -> None:
    tag, _created = InterestTag.objects.get_or_create(code="snow", defaults={"name_ja": "除雪"})
    old = NoticeFactory.create(published_at=timezone.now() - timedelta(hours=72))
    urgent = NoticeFactory.create(urgency="emergency")
    urgent.interests.add(tag)

    now = timezone.now()
    vocabulary = Vocabulary.load()
    matrices = notice_side(
        list(active_notices(now=now)),
        vocabulary=vocabulary,
        text_model=TextModel.fit([]),
        popularity={urgent.pk: 1.0},
        now=now,
    )

    rows = {pk: row for row, pk in enumerate(matrices.ids.tolist())}
    assert matrices.recency[rows[old.pk]] == pytest.approx(0.5, abs=0.01)
    assert matrices.urgency[rows[urgent.pk]] == pytest.approx(1.0)
    assert matrices.popularity[rows[urgent.pk]] == 1.0
    assert (
        np.asarray(matrices.interests[rows[urgent.pk]].todense()).ravel()[
            vocabulary.interests["snow"]
        ]
        == 1.0
    )


def test_popularity_is_a_smoothed_rate_a_notice_most_viewers_opened_ranks_above_a_common_one() -> (
    None
):
    popularity, unseen = popularity_scale({1: (1000.0, 50.0), 2: (40.0, 30.0), 3: (0.0, 0.0)})

    assert popularity[2] > popularity[1]
    assert 0.0 <= popularity[1] <= popularity[2] <= 1.0
    assert unseen == pytest.approx(POPULARITY_PRIOR_OPTIMISM * 80 / 1040)
    assert popularity[3] == pytest.approx(unseen)


def test_a_notice_never_shown_gets_the_overall_rate_on_the_notice_side() -> None:
    shown = NoticeFactory.create()
    never = NoticeFactory.create()
    now = timezone.now()

    side = notice_side(
        [shown, never],
        vocabulary=Vocabulary.load(),
        text_model=TextModel.fit([]),
        popularity={shown.pk: 0.3},
        unseen_popularity=0.1,
        now=now,
    )

    assert side.popularity.tolist() == pytest.approx([0.3, 0.1])
