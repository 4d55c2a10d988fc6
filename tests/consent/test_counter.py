"""Counter-assisted consent: staff with the permission record a resident's paper form."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.messages import get_messages

from consent import policy
from consent.models import ConsentEvent
from consent.services import terms_publish
from tests.factories import StaffFactory, UserFactory
from tests.helpers import grant, log_in_with_mfa, terms_of, with_totp

pytestmark = pytest.mark.django_db

URL = "/staff/consent/counter/"
MFA_FOR_THE_COUNTER = "/accounts/2fa/reauthenticate/?next=%2Fstaff%2Fconsent%2Fcounter%2F"


@pytest.fixture(autouse=True)
def english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def clerk(client):
    staff = with_totp(StaffFactory.create(roles=["counter_clerk"]))
    log_in_with_mfa(client, staff)
    return staff


def paper_form(resident, **overrides) -> dict[str, object]:
    data: dict[str, object] = {
        "email": resident.email,
        "purpose": "disaster_warnings",
        "categories_disaster_warnings": ["places", "location"],
        "action": "grant",
        "paper_form_reference": "AIZU-2026-0042",
        "terms_version": 1,
    }
    data.update(overrides)
    return data


def ledger() -> list[ConsentEvent]:
    return list(ConsentEvent.objects.order_by("id"))


def test_anonymous_visitor_is_sent_to_log_in(client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_resident_is_refused_the_counter_page(client) -> None:
    client.force_login(UserFactory.create())
    assert client.get(URL).status_code == 403


def test_staff_without_the_permission_is_refused_the_counter_page(client) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["publisher"])))
    assert client.get(URL).status_code == 403
    assert client.post(URL, paper_form(UserFactory.create())).status_code == 403
    assert ledger() == []


def test_staff_without_mfa_is_sent_to_set_up_totp(client) -> None:
    client.force_login(StaffFactory.create(roles=["counter_clerk"]))
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_staff_whose_session_skipped_the_second_factor_are_asked_for_a_code(client) -> None:
    client.force_login(with_totp(StaffFactory.create(roles=["counter_clerk"])))
    for response in (client.get(URL), client.post(URL, paper_form(UserFactory.create()))):
        assert response.status_code == 302
        assert (
            response["Location"]
            == "/accounts/2fa/reauthenticate/?next=%2Fstaff%2Fconsent%2Fcounter%2F"
        )
    assert ledger() == []


@pytest.mark.parametrize("role", ["counter_clerk", "consent_officer"])
def test_counter_page_offers_every_purposes_categories(client, role) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=[role])))
    html = client.get(URL).content.decode()
    assert 'name="categories_school_letters" value="household"' in html
    assert 'name="purpose" value="disaster_warnings"' in html
    assert "terms version 1" in html


def test_counter_records_a_paper_consent_with_the_form_reference(client, clerk) -> None:
    resident = UserFactory.create()

    response = client.post(URL, paper_form(resident), follow=True)

    [event] = ledger()
    assert (event.kind, event.purpose_code, event.category_codes) == (
        "grant",
        "disaster_warnings",
        ["location", "places"],
    )
    assert event.subject_pseudonym == resident.pseudonym
    assert event.channel == "counter"
    assert event.actor_kind == "staff"
    assert event.actor_pseudonym == clerk.pseudonym
    assert event.paper_form_reference == "AIZU-2026-0042"
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert resident.email in message
    assert str(event.public_id) in message
    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == {
        "places",
        "location",
    }


def test_the_resident_sees_the_counter_consent_in_their_history(client, clerk) -> None:
    resident = UserFactory.create()
    client.post(URL, paper_form(resident))
    event = ledger()[0]

    client.force_login(resident)
    html = client.get("/consent/").content.decode()

    assert "city counter (paper form)" in html
    assert "AIZU-2026-0042" in html
    assert f'href="/consent/receipts/{event.public_id}/"' in html


def test_counter_records_a_paper_withdrawal(client, clerk) -> None:
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places", "location")

    client.post(
        URL,
        paper_form(resident, action="withdraw", categories_disaster_warnings=["location"]),
    )

    event = ledger()[-1]
    assert (event.kind, event.category_codes, event.channel) == (
        "withdraw",
        ["location"],
        "counter",
    )
    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == {
        "places"
    }


def test_counter_rejects_an_unknown_email_and_records_nothing(client, clerk) -> None:
    response = client.post(URL, paper_form(UserFactory.create(), email="nobody@example.jp"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "No Machi+ account uses this email address" in html
    assert ledger() == []


def test_counter_rejects_a_blank_form_reference_and_records_nothing(client, clerk) -> None:
    response = client.post(URL, paper_form(UserFactory.create(), paper_form_reference="   "))
    assert response.status_code == 200
    assert "Enter the paper form&#x27;s reference." in response.content.decode()
    assert ledger() == []


def test_counter_rejects_categories_ticked_under_another_purpose(client, clerk) -> None:
    response = client.post(
        URL,
        paper_form(UserFactory.create(), categories_school_letters=["household"]),
    )
    assert response.status_code == 200
    assert "not under the chosen purpose" in response.content.decode()
    assert ledger() == []


def test_counter_rejects_a_category_the_terms_do_not_cover(client, clerk) -> None:
    response = client.post(
        URL, paper_form(UserFactory.create(), categories_disaster_warnings=["household"])
    )
    assert response.status_code == 200
    assert "is not a data category these terms cover" in response.content.decode()
    assert ledger() == []


def test_a_paper_form_signed_for_an_older_terms_version_is_refused(client, clerk) -> None:
    resident = UserFactory.create()
    old = terms_of("disaster_warnings")
    terms_publish(
        purpose_code="disaster_warnings",
        category_codes=old.category_codes,
        recipient_codes=[*old.recipient_codes, "operator"],
        text_ja=old.text_ja + "改",
        text_en=old.text_en + " v2",
        retention_days=old.retention_days,
        valid_days=old.valid_days,
        withdrawal_method_ja=old.withdrawal_method_ja,
        withdrawal_method_en=old.withdrawal_method_en,
    )
    client.cookies["django_language"] = "en"

    response = client.post(URL, paper_form(resident, terms_version=1))

    assert response.status_code in (200, 400)
    assert "current terms are version 2" in response.content.decode()
    assert ledger() == []
