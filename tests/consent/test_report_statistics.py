"""The anonymous statistics behind the breakdowns by area and age and the coverage of warnings:
read through the consent gate under "anonymous statistics for city planning" only, residents
who did not agree counted only in totals, the numbers of a known city counted by hand."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from consent.models import DataUseEvent, PlanningStatisticsRun
from consent.policy import age_band
from consent.reports.selectors import breakdown_by_age, breakdown_by_area
from consent.reports.statistics import KEEP_RUNS, planning_statistics_compute
from portal.models import Area
from portal.residents.services import place_add, profile_set_birth_year
from tests.factories import DistrictFactory, StaffFactory, UserFactory
from tests.helpers import grant, log_in_with_mfa, with_totp, withdraw

pytestmark = pytest.mark.django_db

WARNINGS = {"purpose_code": "disaster_warnings", "category_code": "places"}


def resident(*, home: Area | None = None, born: int | None = None, statistics: tuple = ()):
    """A resident who shares ``statistics`` (categories) for anonymous statistics."""
    person = UserFactory.create()
    if statistics:
        grant(person, "planning_statistics", *statistics)
    if home is not None:
        grant(person, "personalised_home", "places")
        place_add(resident_id=person.pk, kind="home", area_code=home.code)
    if born is not None:
        grant(person, "personalised_home", "age")
        profile_set_birth_year(resident_id=person.pk, birth_year=born)
    return person


@pytest.fixture
def city():
    """District A (with a neighbourhood) and district B.

    - 12 residents live in A's neighbourhood and share places and age for statistics, born in
      the 1980s; 10 of them agreed to warnings by their places.
    - 3 live in B and share places for statistics; none agreed to warnings.
    - 4 live in A but share nothing for statistics; all agreed to warnings.
    - 2 share only their age for statistics (born 1950) and live in B.
    - a member of staff shares everything for statistics: not a resident, never counted.
    """
    district_a, district_b = DistrictFactory.create(), DistrictFactory.create()
    neighbourhood = Area.objects.create(
        code="a-1", kind=Area.Kind.NEIGHBOURHOOD, parent=district_a, name_ja="一丁目"
    )
    in_a = [
        resident(home=neighbourhood, born=1985, statistics=("places", "age")) for _ in range(12)
    ]
    for person in in_a[:10]:
        grant(person, "disaster_warnings", "places")
    in_b = [resident(home=district_b, statistics=("places",)) for _ in range(3)]
    private = [resident(home=district_a) for _ in range(4)]
    for person in private:
        grant(person, "disaster_warnings", "places")
    ages_only = [resident(home=district_b, born=1950, statistics=("age",)) for _ in range(2)]
    staff = StaffFactory.create()
    grant(staff, "planning_statistics", "places", "age")
    return {
        "a": district_a,
        "b": district_b,
        "in_a": in_a,
        "in_b": in_b,
        "private": private,
        "ages_only": ages_only,
        "staff": staff,
        "band_1985": age_band(1985),
    }


def group(breakdown, label):
    return next(g for g in breakdown.groups if g.label == label)


def test_a_run_counts_every_resident_once_and_reads_only_those_who_agreed(city) -> None:
    run = planning_statistics_compute()

    assert run.registered == 21
    assert run.residents_read == 17  # 12 in A, 3 in B, 2 by age only
    assert run.consenting["disaster_warnings/places"] == 14


def test_residents_are_counted_in_the_district_their_home_lies_in(city) -> None:
    run = planning_statistics_compute()

    districts = breakdown_by_area(run, **WARNINGS, kind="district")

    a, b = group(districts, city["a"].name), group(districts, city["b"].name)
    assert (a.known, a.consenting) == (12, 10)
    assert (b.known, b.consenting) == (3, 0)


def test_residents_who_did_not_share_their_home_for_statistics_are_counted_only_in_totals(
    city,
) -> None:
    run = planning_statistics_compute()

    unplaced = breakdown_by_area(run, **WARNINGS, kind="district").unplaced

    # The four in A who share nothing, and the two who share only their age.
    assert (unplaced.known, unplaced.consenting) == (6, 4)


def test_a_home_above_the_level_asked_counts_where_no_area_places_it(city) -> None:
    run = planning_statistics_compute()

    neighbourhoods = breakdown_by_area(run, **WARNINGS, kind="neighbourhood")

    assert (group(neighbourhoods, "一丁目").known, neighbourhoods.unplaced.known) == (12, 9)


def test_age_bands_count_residents_who_shared_their_age_wherever_they_live(city) -> None:
    run = planning_statistics_compute()

    ages = breakdown_by_age(run, **WARNINGS)

    labels = [g.label for g in ages.groups]
    # Every band is listed, youngest first: one left out would say nobody is in it.
    assert labels[:2] == ["0-9", "10-19"]
    assert city["band_1985"] in labels and "100-109" not in labels
    assert group(ages, city["band_1985"]).known == 12
    assert ages.unplaced.known == 21 - 12 - 2


def test_each_read_is_in_the_data_use_log_of_those_who_agreed_and_no_one_else(city) -> None:
    planning_statistics_compute()

    logged = set(
        DataUseEvent.objects.filter(purpose_code="planning_statistics").values_list(
            "resident_id", flat=True
        )
    )
    agreed = {p.pk for p in city["in_a"] + city["in_b"] + city["ages_only"]}
    assert agreed <= logged
    assert not logged & {p.pk for p in city["private"]}


def test_a_resident_who_withdrew_from_statistics_is_no_longer_placed(city) -> None:
    withdraw(city["in_b"][0], purpose="planning_statistics")

    run = planning_statistics_compute()

    b = group(breakdown_by_area(run, **WARNINGS, kind="district"), city["b"].name)
    assert b.known == 2


def test_only_the_latest_runs_are_kept() -> None:
    for _ in range(KEEP_RUNS + 2):
        planning_statistics_compute()

    assert PlanningStatisticsRun.objects.count() == KEEP_RUNS


def test_the_command_counts_at_once(city, capsys) -> None:
    call_command("consent_planning_statistics")

    assert "17 of 21" in capsys.readouterr().out


# ------------------------------------------------------------------------------------- pages


@pytest.fixture
def officer(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    staff = with_totp(StaffFactory.create(roles=["consent_officer"]))
    log_in_with_mfa(client, staff)
    return staff


def test_before_any_run_the_pages_say_the_statistics_are_not_computed_yet(client, officer) -> None:
    page = client.get(reverse("consent_staff:reports_coverage")).content.decode()

    assert "have not been computed yet" in page
    response = client.get(reverse("consent_staff:reports_csv"), {"table": "coverage"})
    assert response.status_code == 400


def test_the_coverage_page_says_what_the_denominator_is(client, officer, city) -> None:
    planning_statistics_compute()

    page = client.get(reverse("consent_staff:reports_coverage")).content.decode()

    assert "The denominator:" in page
    assert "let the city use their places for anonymous statistics" in page


def test_the_coverage_export_hides_small_counts_and_what_would_give_them_away(
    client, officer, city
) -> None:
    planning_statistics_compute()

    response = client.get(
        reverse("consent_staff:reports_json"), {"table": "coverage", "level": "district"}
    )

    rows = {row["label"]: row for row in json.loads(response.content)["rows"]}
    a = rows[city["a"].name]
    # Ten of the twelve in A will receive warnings: the ten would give the two who will not
    # away. A's total is hidden too: all twelve live in its one neighbourhood, and the table by
    # neighbourhoods would tell 21 - 12 = 9 residents apart from it.
    assert a["counts"] == ["×", "<10"]
    assert a["total"] == "×"
    assert a["notes"] == ["—"]  # as would 83.3%


def test_a_district_and_its_neighbourhoods_hide_the_same_counts(client, officer, city) -> None:
    planning_statistics_compute()

    def rows(level):
        response = client.get(
            reverse("consent_staff:reports_json"), {"table": "coverage", "level": level}
        )
        return {row["label"]: row for row in json.loads(response.content)["rows"]}

    district = rows("district")[city["a"].name]
    neighbourhood = rows("neighbourhood")["一丁目"]
    assert district["counts"] == neighbourhood["counts"]
    assert district["total"] == neighbourhood["total"]


def test_a_breakdown_by_an_unknown_dimension_is_refused(client, officer, city) -> None:
    planning_statistics_compute()

    response = client.get(reverse("consent_staff:reports_breakdown"), {"by": "income"})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_the_statistics_are_counted_every_night(city) -> None:
    from consent.tasks import count_planning_statistics

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "consent.count_planning_statistics" in scheduled
    assert count_planning_statistics() == 17
