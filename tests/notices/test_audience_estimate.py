"""The estimated audience of a targeting: rounded to 10, "fewer than 10" below, never exact;
rate-limited per staff member; an identical targeting answered from the cache."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from consent import policy
from consent.models import DataUseEvent
from portal.models import Area, User
from portal.notices import audience
from portal.notices.audience import (
    AudienceEstimate,
    EstimateRateLimited,
    InvalidTargeting,
    estimate_audience,
    purpose_for,
    rounded_count,
)
from portal.notices.services import Targeting
from portal.notices.views import estimate as estimate_view
from portal.residents import services as profile_services
from tests.factories import DistrictFactory, SchoolFactory, UserFactory
from tests.helpers import grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def district() -> Area:
    return DistrictFactory.create()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace the gate's count with a fixed number, recording what it was asked."""
    asked: dict[str, Any] = {"count": 0, "calls": []}

    def fake_count(*, purpose: str, reader: policy.Reader, spec: policy.AudienceSpec) -> int:
        asked["calls"].append((purpose, reader, spec))
        return asked["count"]

    monkeypatch.setattr(policy, "count_matching", fake_count)
    return asked


@pytest.mark.parametrize(
    ("exact", "rounded"),
    [(0, None), (1, None), (9, None), (10, 10), (14, 10), (15, 20), (123, 120), (1234, 1230)],
)
def test_counts_are_rounded_to_ten_and_hidden_below_ten(exact: int, rounded: int | None) -> None:
    assert rounded_count(exact) == rounded


def test_the_display_text() -> None:
    assert AudienceEstimate.of(3) == AudienceEstimate(None, "fewer than 10 residents")
    assert AudienceEstimate.of(0).display == "fewer than 10 residents"
    assert AudienceEstimate.of(14) == AudienceEstimate(10, "about 10 residents")
    assert AudienceEstimate.of(15).display == "about 20 residents"
    assert AudienceEstimate.of(123).display == "about 120 residents"
    assert AudienceEstimate.of(12_345).display == "about 12,350 residents"


@pytest.mark.parametrize(
    ("category", "purpose"),
    [
        ("disaster", "disaster_warnings"),
        ("school", "school_letters"),
        ("city_news", "personalised_home"),
        ("snow", "personalised_home"),
        ("events", "personalised_home"),
    ],
)
def test_the_purpose_of_each_notice_category(category: str, purpose: str) -> None:
    assert purpose_for(category) == purpose


def test_an_unknown_category_is_refused(publisher: User) -> None:
    with pytest.raises(InvalidTargeting):
        purpose_for("gossip")
    with pytest.raises(InvalidTargeting):
        estimate_audience(targeting=Targeting(), category="gossip", staff=publisher)


def test_unknown_codes_are_refused(publisher: User) -> None:
    for targeting in (
        Targeting(area_codes=["atlantis"]),
        Targeting(interest_codes=["nonexistent"]),
        Targeting(school_audiences=[("no-such-school", None)]),
    ):
        with pytest.raises(InvalidTargeting):
            estimate_audience(targeting=targeting, category="city_news", staff=publisher)


def test_the_exact_count_is_never_revealed(
    publisher: User, district: Area, counted, without_noise: None
) -> None:
    # Without the noise the rounding is exact (with it, 123 may round to 120 or 130, depending
    # on the district's code: test_the_noise_is_the_same_for_the_same_targeting_and_small).
    counted["count"] = 123
    result = estimate_audience(
        targeting=Targeting(area_codes=[district.code]), category="city_news", staff=publisher
    )
    assert result.rounded == 120
    assert "123" not in result.display
    assert "123" not in repr(result)
    purpose, reader, spec = counted["calls"][0]
    assert purpose == "personalised_home"
    assert (reader.kind, reader.staff_id, reader.recipient) == ("staff", publisher.pk, "city")
    assert reader.name == "audience estimate for a notice"
    assert spec.area_ids == frozenset({district.pk})


def test_a_small_audience_is_fewer_than_ten(
    publisher: User, district: Area, counted, without_noise: None
) -> None:
    counted["count"] = 7
    result = estimate_audience(
        targeting=Targeting(area_codes=[district.code]), category="disaster", staff=publisher
    )
    assert result == AudienceEstimate(None, "fewer than 10 residents")
    assert counted["calls"][0][0] == "disaster_warnings"


def test_an_identical_targeting_is_answered_from_the_cache(
    publisher: User, approver: User, district: Area, counted, without_noise: None
) -> None:
    counted["count"] = 40
    targeting = Targeting(area_codes=[district.code], age_bands=["30-39", "40-49"])
    same = Targeting(area_codes=[district.code], age_bands=["40-49", "30-39"])
    estimate_audience(targeting=targeting, category="city_news", staff=publisher)
    assert estimate_audience(targeting=same, category="city_news", staff=approver).rounded == 40
    assert len(counted["calls"]) == 1
    # Another purpose is another estimate.
    estimate_audience(targeting=targeting, category="disaster", staff=publisher)
    assert len(counted["calls"]) == 2


def test_the_rate_limit_is_per_staff_member(
    publisher: User, approver: User, district: Area, counted
) -> None:
    targeting = Targeting(area_codes=[district.code])
    for _ in range(audience.RATE_LIMIT):
        estimate_audience(targeting=targeting, category="city_news", staff=publisher)
    with pytest.raises(EstimateRateLimited) as refused:
        estimate_audience(targeting=targeting, category="city_news", staff=publisher)
    assert 1 <= refused.value.retry_after <= audience.RATE_WINDOW_SECONDS + 1
    assert "Too many estimates" in str(refused.value)
    estimate_audience(targeting=targeting, category="city_news", staff=approver)


def test_an_estimate_through_the_gate(publisher: User, district: Area, without_noise: None) -> None:
    residents = UserFactory.create_batch(15)
    for resident in residents:
        grant(resident, "personalised_home", "places")
        profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    withdrawn = UserFactory.create()  # shared nothing: never counted, never read
    result = estimate_audience(
        targeting=Targeting(area_codes=[district.code]), category="city_news", staff=publisher
    )
    assert result == AudienceEstimate(20, "about 20 residents")
    logged = DataUseEvent.objects.filter(reader_kind="staff", staff_account_id=publisher.pk)
    assert logged.count() == 15
    assert not DataUseEvent.objects.filter(resident=withdrawn).exists()
    # Only the rounded figure is cached.
    spec = audience.audience_spec(Targeting(area_codes=[district.code]))
    assert cache.get(audience._cache_key("personalised_home", spec)) == 20


# ---------------------------------------------------------------------------------------------
# The view (wired into the console's URLs elsewhere): called below the staff gate
# ---------------------------------------------------------------------------------------------


def post(user: User, data: dict[str, Any]) -> Any:
    request = RequestFactory().post("/staff/notices/estimate/", data)
    request.user = user
    return estimate_view.estimate.__wrapped__(request)  # type: ignore[attr-defined]


def test_the_view_answers_a_fragment(
    publisher: User, district: Area, counted, without_noise: None
) -> None:
    counted["count"] = 57
    school = SchoolFactory.create()
    response = post(
        publisher,
        {
            "category": "city_news",
            "areas": [district.code],
            "age_bands": ["30-39"],
            "interests": ["sports"],
            "school_audiences": [f"{school.code}:2", f"{school.code}:"],
        },
    )
    assert response.status_code == 200
    assert "about 60 residents" in response.content.decode()
    spec = counted["calls"][0][2]
    assert spec.school_audiences == frozenset({(school.pk, 2), (school.pk, None)})
    assert spec.interest_codes == frozenset({"sports"})


@pytest.mark.parametrize(
    "data",
    [
        {"areas": ["x"]},  # no category
        {"category": "city_news", "areas": ["atlantis"]},
        {"category": "city_news", "age_bands": ["old"]},
        {"category": "city_news", "school_audiences": ["no-colon"]},
        {"category": "city_news", "school_audiences": ["{school}:two"]},
        {"category": "city_news", "school_audiences": ["{school}:13"]},
        {"category": "gossip"},
    ],
)
def test_the_view_refuses_bad_input(publisher: User, data: dict[str, Any], counted) -> None:
    school = SchoolFactory.create()
    if "school_audiences" in data:
        data = {
            **data,
            "school_audiences": [v.format(school=school.code) for v in data["school_audiences"]],
        }
    response = post(publisher, data)
    assert response.status_code == 400
    assert counted["calls"] == []


def test_the_view_says_429_when_rate_limited(publisher: User, counted) -> None:
    for _ in range(audience.RATE_LIMIT):
        assert post(publisher, {"category": "city_news"}).status_code == 200
    response = post(publisher, {"category": "city_news"})
    assert response.status_code == 429
    assert "Too many estimates" in response.content.decode()
    assert int(response["Retry-After"]) >= 1


def test_the_view_needs_a_notice_writing_permission(approver: User) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        post(approver, {"category": "city_news"})


@pytest.fixture
def without_noise(monkeypatch) -> None:
    """The count as the gate gives it, for tests of what surrounds the noise."""
    monkeypatch.setattr(audience, "NOISE", 0)


def test_the_noise_is_the_same_for_the_same_targeting_and_small() -> None:
    keys = [f"notices:estimate:{n}" for n in range(200)]
    offsets = [audience._noise(key) for key in keys]
    assert offsets == [audience._noise(key) for key in keys]
    assert set(offsets) <= set(range(-audience.NOISE, audience.NOISE + 1))
    assert len(set(offsets)) > 3
