"""The consent reports' pages and exports: who may open them, what they show of a known city
(small counts hidden), that every viewing and export is logged, and that bad parameters are
refused with a clear message."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from consent.reports.pages import overview_and_terms, trend, trend_published
from consent.reports.selectors import Overview, PurposeUptake, WeekOfConsents
from consent.reports.suppression import Hidden
from consent.reports.tallies import week_of
from consent.services import Actor, consent_grant
from portal.models import StaffAuditEntry
from tests.factories import StaffFactory, UserFactory
from tests.helpers import (
    grant,
    log_in_with_mfa,
    publish_material_change,
    publish_wording_change,
    terms_of,
    with_totp,
    withdraw,
)

pytestmark = pytest.mark.django_db

PAGES = [
    "consent_staff:reports",
    "consent_staff:reports_trends",
    "consent_staff:reports_terms",
    "consent_staff:reports_data_use",
    "consent_staff:reports_counter",
    "consent_staff:reports_breakdown",
    "consent_staff:reports_coverage",
]


@pytest.fixture(autouse=True)
def english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def officer(client):
    staff = with_totp(StaffFactory.create(roles=["consent_officer"]))
    log_in_with_mfa(client, staff)
    return staff


@pytest.fixture
def city():
    """Twelve residents share their places for the home page; three of them withdrew since.
    Four share their location for warnings. A clerk recorded one consent at the counter."""
    residents = UserFactory.create_batch(12)
    for resident in residents:
        grant(resident, "personalised_home", "places")
    for resident in residents[:3]:
        withdraw(resident, purpose="personalised_home")
    for resident in residents[:4]:
        grant(resident, "disaster_warnings", "location")
    clerk = StaffFactory.create(email="clerk@city.example")
    consent_grant(
        resident=residents[11],
        terms_id=terms_of("school_letters").pk,
        category_codes=["household"],
        actor=Actor.counter_staff(clerk, paper_form_reference="MP-0001"),
    )
    return residents


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))


# ------------------------------------------------------------------------------ access control


@pytest.mark.parametrize("page", PAGES)
def test_an_anonymous_visitor_is_sent_to_log_in(client, page) -> None:
    response = client.get(reverse(page))

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("page", PAGES)
def test_a_resident_is_refused(client, page) -> None:
    client.force_login(UserFactory.create())

    assert client.get(reverse(page)).status_code == 403


@pytest.mark.parametrize("page", [*PAGES, "consent_staff:reports_csv"])
def test_a_publisher_with_mfa_is_refused(client, page) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["publisher"])))

    assert client.get(reverse(page), {"table": "overview"}).status_code == 403


@pytest.mark.parametrize("page", [*PAGES, "consent_staff:reports_json"])
def test_an_officer_who_has_not_passed_mfa_this_session_is_asked_for_it(client, page) -> None:
    client.force_login(with_totp(StaffFactory.create(roles=["consent_officer"])))

    response = client.get(reverse(page), {"table": "overview"})

    assert response.status_code == 302
    assert reverse("account_login") not in response["Location"]
    assert not StaffAuditEntry.objects.filter(action__startswith="consent.reports.").exists()


@pytest.mark.parametrize("role", ["consent_officer", "administrator"])
def test_officers_and_administrators_with_mfa_open_every_report(client, role) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=[role])))

    for page in PAGES:
        assert client.get(reverse(page)).status_code == 200, page


# ----------------------------------------------------------------------------- what they show


def test_the_overview_shows_counts_of_ten_or_more_and_hides_smaller_ones(
    client, officer, city
) -> None:
    rows = {
        row[0]: row[1:]
        for row in csv_rows(client.get(reverse("consent_staff:reports_csv"), {"table": "overview"}))
    }

    assert rows["Registered residents"][0] == "12"
    assert rows["Sharing for: Personalised home page"][0] == "<10"  # nine still share
    assert rows["Sharing for: Disaster warnings for my areas"][0] == "<10"
    # All twelve share something: shown, the count would say that nobody shares nothing.
    assert rows["Residents sharing something for at least one purpose"][0] == "×"


def test_a_share_is_not_shown_when_the_rest_of_the_residents_are_fewer_than_ten(
    client, officer, city
) -> None:
    rows = {
        row[0]: row[1:]
        for row in csv_rows(client.get(reverse("consent_staff:reports_csv"), {"table": "overview"}))
    }

    # 12 of 12: showing 100.0% would reveal that no resident shares nothing.
    assert rows["Residents sharing something for at least one purpose"][1] == "—"


def test_the_weekly_trend_shows_a_weeks_decisions_and_hides_the_few(client, officer, city) -> None:
    for resident in UserFactory.create_batch(10):
        grant(resident, "personalised_home", "places")
    params = {"purpose": "personalised_home", "category": "places", "weeks": "13"}

    events = trend(params, now=timezone.now() + timedelta(weeks=1)).events

    # No totals: a week's decisions add up to nothing published.
    assert list(events.columns) == ["Grants", "Refusals", "Withdrawals", "Expiries"]
    assert events.shown_totals() is None
    assert len(events.rows) == 13
    last_week = events.published.cells[-1]
    assert last_week[0] == 22
    assert last_week[2] is Hidden.SMALL  # three withdrawals


def test_the_week_under_way_is_not_shown(client, officer, city) -> None:
    params = {"table": "trend-events", "purpose": "personalised_home", "category": "places"}

    rows = csv_rows(client.get(reverse("consent_staff:reports_csv"), params))

    # Its counts grow day by day: two days' tables would tell a day's decisions apart.
    this_week = week_of(timezone.now())
    assert rows[-1][0] == (this_week - timedelta(weeks=1)).isoformat()
    assert all(cell == "<10" for row in rows[1:] for cell in row[1:])  # nothing before it


def test_the_active_consents_at_the_end_of_the_week_count_grants_less_withdrawals(
    client, officer, city
) -> None:
    params = {"purpose": "personalised_home", "category": "places"}

    active = trend(params, now=timezone.now() + timedelta(weeks=1)).active

    assert active.published.cells[-1] == (Hidden.SMALL,)  # 12 granted, 3 withdrawn: 9
    assert active.shown_totals() is None  # a stock over weeks does not add up


def test_the_trends_page_draws_a_chart_with_its_table_beside_it(client, officer, city) -> None:
    response = client.get(reverse("consent_staff:reports_trends"))

    page = response.content.decode()
    assert 'role="img"' in page
    assert "<desc" in page
    assert "Active consents at the end of each week" in page


def test_the_terms_report_says_when_consents_to_replaced_terms_lapse(client, officer, city) -> None:
    from tests.helpers import publish_material_change

    publish_material_change("personalised_home")

    rows = csv_rows(client.get(reverse("consent_staff:reports_csv"), {"table": "terms"}))

    old = next(row for row in rows if row[0] == "Personalised home page, version 1")
    assert old[1] == "<10"  # nine residents still rest on version 1
    assert old[3] == "replaced: residents must agree again"
    assert old[4] != "—"


def test_the_counter_report_names_the_clerk_and_the_references(client, officer, city) -> None:
    response = client.get(reverse("consent_staff:reports_counter"))

    assert response.status_code == 200
    # Recorded without a paper form register in this fixture: nothing used from the register.
    assert "No form has been disputed." in response.content.decode()


def test_the_data_use_report_counts_the_residents_each_reader_read(client, officer) -> None:
    from consent import policy
    from consent.policy import Reader

    residents = UserFactory.create_batch(11)
    for resident in residents:
        grant(resident, "personalised_home", "places")
    policy.read_profiles(
        resident_ids=[r.pk for r in residents],
        purpose="personalised_home",
        reader=Reader(kind="task", name="scorer", recipient="city"),
        categories=["places"],
    )

    rows = csv_rows(client.get(reverse("consent_staff:reports_csv"), {"table": "data-use"}))

    scorer = next(row for row in rows if row[0].endswith("scorer"))
    assert scorer[-1] == "11"


# ------------------------------------------------------------------------------------ logging


def test_viewing_a_report_is_logged_with_who_and_what(client, officer) -> None:
    client.get(reverse("consent_staff:reports_trends"), {"weeks": "13"})

    entry = StaffAuditEntry.objects.get(action="consent.reports.view")
    assert entry.actor == officer
    assert entry.reference == "trends"
    assert entry.detail["parameters"] == {"weeks": "13"}


def test_exporting_a_table_is_logged_with_its_format(client, officer) -> None:
    client.get(reverse("consent_staff:reports_json"), {"table": "terms"})

    entry = StaffAuditEntry.objects.get(action="consent.reports.export")
    assert (entry.reference, entry.detail["format"]) == ("terms", "json")


def test_administrators_see_the_latest_viewings_on_the_overview(client) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["administrator"])))
    client.get(reverse("consent_staff:reports_terms"))

    page = client.get(reverse("consent_staff:reports")).content.decode()

    assert "Latest viewings and exports of the reports" in page
    assert "<td>terms</td>" in page


# ---------------------------------------------------------------------------------- bad input


def test_an_export_without_a_table_is_refused_with_the_tables_it_knows(client, officer) -> None:
    response = client.get(reverse("consent_staff:reports_csv"))

    assert response.status_code == 400
    assert "overview" in response.content.decode()
    assert not StaffAuditEntry.objects.filter(action="consent.reports.export").exists()


def test_a_trend_of_an_unknown_purpose_is_refused_on_the_page(client, officer) -> None:
    response = client.get(reverse("consent_staff:reports_trends"), {"purpose": "nonsense"})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_an_export_of_an_unknown_period_is_refused(client, officer) -> None:
    response = client.get(
        reverse("consent_staff:reports_csv"), {"table": "data-use", "days": "100000"}
    )

    assert response.status_code == 400


def week(n: int, **counts: int) -> WeekOfConsents:
    fields = {"granted": 0, "refused": 0, "withdrawn": 0, "expired": 0, "active": 0}
    return WeekOfConsents(week=date(2026, 1, 5) + timedelta(weeks=n), **{**fields, **counts})


def test_active_consents_are_shown_to_the_nearest_ten() -> None:
    _events, active = trend_published(
        [week(0, granted=14, active=14, became_active=14), week(1, active=14)]
    )

    assert active == ((10,), (10,))


def test_a_decision_that_two_weeks_active_consents_would_tell_is_protected() -> None:
    # No grants in week 1, 20 withdrawals and expiries, 11 consents stopped: 95 active, then 84.
    # Rounded to 100 and 80, with the 20 shown, the grants could only be 0.
    weeks = [
        week(0, active=95, became_active=95),
        week(1, withdrawn=10, expired=10, stopped_active=11, active=84),
    ]

    events, active = trend_published(weeks)

    assert active == ((100,), (80,))
    granted, refused, withdrawn, expired = events[1]
    assert granted is Hidden.SMALL
    assert Hidden.PROTECTING in (withdrawn, expired)


def test_a_week_whose_active_consents_tell_nothing_hides_only_its_small_counts() -> None:
    weeks = [
        week(0, active=500, became_active=500),
        week(
            1, granted=40, withdrawn=12, expired=3, became_active=40, stopped_active=15, active=525
        ),
    ]

    events, _active = trend_published(weeks)

    assert events[1] == (40, Hidden.SMALL, 12, Hidden.SMALL)


def test_a_purpose_and_its_terms_versions_do_not_give_a_small_version_away(client, officer) -> None:
    for resident in UserFactory.create_batch(3):
        grant(resident, "school_letters", "household")
    publish_wording_change("school_letters")  # consents to version 1 stay valid
    for resident in UserFactory.create_batch(12):
        grant(resident, "school_letters", "household")

    def rows(table):
        response = client.get(reverse("consent_staff:reports_csv"), {"table": table})
        return {row[0]: row[1] for row in csv_rows(response)}

    purpose = rows("overview")["Sharing for: School letters for my children"]
    versions = rows("terms")
    first = versions["School letters for my children, version 1"]
    second = versions["School letters for my children, version 2"]
    assert first == "<10"
    # 15 sharing less 12 on version 2 would tell the three on version 1.
    assert "×" in (purpose, second), (purpose, second)


def test_the_registered_are_hidden_when_a_part_and_its_small_rest_would_tell_it(
    client, officer
) -> None:
    # Eleven registered, all sharing for the home page: shown as "at least ten" beside 11, the
    # part could only be 10 or 11, so the registered are hidden too.
    for resident in UserFactory.create_batch(11):
        grant(resident, "personalised_home", "places")

    rows = {
        row[0]: row[1]
        for row in csv_rows(client.get(reverse("consent_staff:reports_csv"), {"table": "overview"}))
    }

    assert rows["Registered residents"] == "×"
    assert rows["Sharing for: Personalised home page"] == "×"


def overview_of(registered, consenting, purposes, *, withdrew=12, again=0, terms=None):
    """An overview with these counts; each purpose's residents rest on its current terms
    unless ``terms`` says otherwise."""
    codes = ["personalised_home", "disaster_warnings", "school_letters", "planning_statistics"]
    return Overview(
        registered=registered,
        consenting=consenting,
        per_purpose=[
            PurposeUptake(code=code, name=code, residents=n)
            for code, n in zip(codes, purposes, strict=True)
        ],
        withdrew_recently=withdrew,
        to_consent_again=again,
        at_the_counter=0,
        ledger=None,
        terms=terms
        if terms is not None
        else {terms_of(code).pk: n for code, n in zip(codes, purposes, strict=True)},
    )


def test_a_small_purpose_is_not_given_away_by_those_sharing_for_any_purpose() -> None:
    # 55 share for some purpose, the others hold 20 + 15 + 11: the third holds at least 9, and
    # "<10" would make it exactly 9.
    measures, _versions = overview_and_terms(overview_of(100, 55, [20, 15, 9, 11]))

    registered, consenting, *purposes = measures[:6]
    assert purposes[2] is Hidden.SMALL
    assert Hidden.PROTECTING in (consenting, purposes[0], purposes[1], purposes[3])


def test_a_purpose_hidden_beside_its_version_and_those_sharing_is_not_pinned_by_them() -> None:
    # 21 share, all for the home page: 21 on its version 2, one of them still on version 1.
    old = terms_of("personalised_home")
    new = publish_material_change("personalised_home")
    report = overview_of(100, 21, [21, 0, 0, 0], again=1, terms={old.pk: 1, new.pk: 21})

    measures, versions = overview_and_terms(report)

    purpose = measures[2]
    second = next(shown for v, shown in versions if v.terms.pk == new.pk)
    if isinstance(purpose, Hidden):
        # At least its version's 21, at most the 21 sharing: both cannot be shown.
        assert isinstance(measures[1], Hidden) or isinstance(second, Hidden)


def test_a_week_is_protected_alike_when_the_next_week_is_added() -> None:
    # Week 1: one grant, 12 withdrawals, 10 expiries, active 35 -> 14. Were next week's page
    # to start at week 1 (as a 52-week window moving on would), nothing would bound the active
    # consents before it, and its expiries could be shown: with this week's page, where they
    # are hidden, the grant could only be 0 or 1. Both pages start at the first decision.
    weeks = [
        week(0, granted=35, active=35, became_active=35),
        week(1, granted=1, withdrawn=12, expired=10, stopped_active=22, became_active=1, active=14),
    ]
    weeks += [
        week(
            n, granted=20, withdrawn=10, expired=10, became_active=20, stopped_active=20, active=14
        )
        for n in range(2, 53)
    ]

    this_week, _active = trend_published(weeks[:52])
    next_week, _active = trend_published(weeks)

    assert this_week[1] == next_week[1] == (Hidden.SMALL, Hidden.SMALL, 12, Hidden.PROTECTING)


def test_a_version_in_force_tells_its_purpose_and_so_cannot_give_another_away() -> None:
    # School letters: 9. Planning statistics: 11, all on its version in force (shown or not on
    # the overview, its version tells it); 4 more rest on its replaced version. With 55 sharing
    # and 20 + 15 + 11 besides, the 9 would be exactly 9 if all of those were known.
    old = terms_of("planning_statistics")
    new = publish_material_change("planning_statistics")
    terms = {
        terms_of("personalised_home").pk: 20,
        terms_of("disaster_warnings").pk: 15,
        terms_of("school_letters").pk: 9,
        new.pk: 11,
        old.pk: 4,
    }
    report = overview_of(100, 55, [20, 15, 9, 11], again=4, terms=terms)

    measures, versions = overview_and_terms(report)

    consenting, purposes = measures[1], measures[2:6]
    in_force = {v.terms.purpose.code: shown for v, shown in versions if v.usable}
    codes = ["personalised_home", "disaster_warnings", "school_letters", "planning_statistics"]
    known = [
        purpose if not isinstance(purpose, Hidden) else in_force[code]
        for code, purpose in zip(codes, purposes, strict=True)
    ]
    assert purposes[2] is Hidden.SMALL
    others = known[:2] + known[3:]
    assert isinstance(consenting, Hidden) or any(isinstance(n, Hidden) for n in others)


def test_a_consent_lapsed_but_not_yet_marked_does_not_break_the_overview() -> None:
    # School letters' version holds 10 (one consent lapsed today, still marked granted) while 9
    # are active: "a version holds at most its purpose" does not hold just now.
    report = overview_of(
        100,
        55,
        [20, 15, 9, 11],
        terms={
            terms_of(code).pk: n
            for code, n in zip(
                ["personalised_home", "disaster_warnings", "school_letters", "planning_statistics"],
                [20, 15, 10, 11],
                strict=True,
            )
        },
    )

    measures, _versions = overview_and_terms(report)

    assert measures[4] is Hidden.SMALL


def test_the_first_weeks_decisions_are_protected_from_nothing_active_before_them() -> None:
    # Eleven grants in a purpose's first week and nothing else: 11 active, shown as 10 (10 to
    # 14). Shown, the eleven would leave the withdrawals and expiries only 0 or 1.
    for resident in UserFactory.create_batch(11):
        grant(resident, "school_letters", "household")
    params = {"purpose": "school_letters", "category": "household", "weeks": "13"}

    events = trend(params, now=timezone.now() + timedelta(weeks=1)).events.published.cells

    assert events[-1][0] is Hidden.PROTECTING
    assert all(week == (Hidden.SMALL,) * 4 for week in events[:-1])  # before the first decision
