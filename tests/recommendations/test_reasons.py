""" "Why am I seeing this?" in words: each personal reason names what was used and the day the
resident chose to share it for the home page; a reason whose consent has ended is not claimed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from recommendations.reasons import ReasonNames, reason_lines
from recommendations.scoring import REASON_BITS

GRANTED = {
    "places": datetime(2026, 11, 20, 1, 0, tzinfo=ZoneInfo("UTC")),
    "interests": datetime(2026, 11, 21, 1, 0, tzinfo=ZoneInfo("UTC")),
}
NAMES = ReasonNames(areas={7: "北会津"}, interests={3: "スポーツ"}, schools={})


def lines(reasons: int, granted=GRANTED) -> list[str]:
    return reason_lines(
        reasons=reasons,
        category="city_news",
        area_id=7,
        interest_id=3,
        school_id=0,
        names=NAMES,
        granted=granted,
    )


def test_an_area_reason_names_the_area_and_the_day_it_was_shared() -> None:
    with translation.override("en"):
        assert lines(REASON_BITS["area"]) == [
            "It is for 北会津, where one of your places is (you chose to share your places for "
            "your home page on November 20)."
        ]


def test_the_reason_reads_in_japanese_with_a_japanese_date() -> None:
    with translation.override("ja"):
        (line,) = lines(REASON_BITS["area"])
    assert line.startswith("北会津向けのお知らせで") and "11月20日" in line


def test_an_entry_resting_on_a_category_no_longer_shared_has_no_sentences() -> None:
    """It is not shown at all (explained_feed): claiming the rest, or "for everyone", would
    be untrue."""
    with translation.override("en"):
        result = lines(
            REASON_BITS["area"] | REASON_BITS["interest"],
            granted={"interests": GRANTED["interests"]},
        )
    assert result == []


def test_a_notice_chosen_for_everything_but_the_resident_says_so() -> None:
    with translation.override("en"):
        result = lines(REASON_BITS["urgency"] | REASON_BITS["for_everyone"])
    assert result == [
        "It is urgent.",
        "It is for everyone in the city: nothing you share was needed to show it.",
    ]


def test_an_entry_for_everyone_with_no_strong_point_still_says_why() -> None:
    with translation.override("en"):
        assert lines(0) == [
            "It is for everyone in the city: nothing you share was needed to show it."
        ]


def test_a_personal_entry_never_says_it_is_for_everyone() -> None:
    with translation.override("en"):
        result = lines(REASON_BITS["area"] | REASON_BITS["for_everyone"])
    assert len(result) == 1 and "北会津" in result[0]


@pytest.mark.django_db
def test_grant_dates_name_only_the_categories_the_purpose_may_use_now() -> None:
    from consent.selectors import grant_dates
    from tests.factories import UserFactory
    from tests.helpers import grant, withdraw

    resident = UserFactory.create()
    grant(resident, "personalised_home", "places", "interests")
    grant(resident, "disaster_warnings", "location")
    withdraw(resident, category="interests")

    dates = grant_dates(resident_id=resident.pk, purpose_code="personalised_home")

    assert set(dates) == {"places"}
