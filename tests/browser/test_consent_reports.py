"""An officer opens the consent reports' overview in the browser and downloads a table as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from portal.models import StaffAuditEntry
from tests.browser.test_accessibility import log_in_as_staff
from tests.factories import StaffFactory, UserFactory
from tests.helpers import grant, with_totp

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_officer_opens_the_overview_and_downloads_it_as_csv(page, time_machine) -> None:
    officer = with_totp(StaffFactory.create(roles=["consent_officer"]))
    for resident in UserFactory.create_batch(11):
        grant(resident, "personalised_home", "places")
    UserFactory.create_batch(12)  # sharing nothing: the rest of the registered is not small
    log_in_as_staff(page, officer, time_machine)

    page.goto("/staff/")
    page.get_by_role("link", name="同意レポート").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("同意レポート")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()

    assert download.value.suggested_filename.startswith("consent-report-overview-")
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(text))}
    assert rows["登録している住民"][0] == "23"
    assert StaffAuditEntry.objects.filter(
        actor=officer, action="consent.reports.export", reference="overview"
    ).exists()
