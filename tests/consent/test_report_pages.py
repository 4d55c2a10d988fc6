"""The consent reports' pages and exports: who may open them, what they show of a known city
(small counts hidden), that every viewing and export is logged, and that bad parameters are
refused with a clear message."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.conf import settings
from django.urls import reverse

from consent.services import Actor, consent_grant
from portal.models import StaffAuditEntry
from tests.factories import StaffFactory, UserFactory
from tests.helpers import grant, log_in_with_mfa, terms_of, with_totp, withdraw

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
    params = {"table": "trend-events", "purpose": "personalised_home", "category": "places"}

    rows = csv_rows(client.get(reverse("consent_staff:reports_csv"), {**params, "weeks": "13"}))

    # No totals: a total over one period would be protected differently from the next
    # period's, and the two downloads together would give a hidden count away.
    assert rows[0] == ["Week starting", "Grants", "Refusals", "Withdrawals", "Expiries"]
    assert len(rows) == 1 + 13
    this_week = rows[-1]
    assert this_week[1] == "22"
    assert this_week[3] == "<10"  # three withdrawals


def test_the_active_consents_at_the_end_of_the_week_count_grants_less_withdrawals(
    client, officer, city
) -> None:
    params = {"table": "trend-active", "purpose": "personalised_home", "category": "places"}

    document = json.loads(client.get(reverse("consent_staff:reports_json"), params).content)

    assert document["rows"][-1]["counts"] == ["<10"]  # 12 granted, 3 withdrawn: 9
    assert "total" not in document  # a stock over weeks does not add up


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
