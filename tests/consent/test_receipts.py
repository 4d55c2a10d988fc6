"""Consent receipts: ISO/IEC TS 27560-shaped JSON with a Kantara v1.1 projection, shown only
to the resident the consent belongs to."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.conf import settings

from consent.receipts import consent_receipt
from consent.services import Actor, consent_grant
from tests.factories import StaffFactory, UserFactory
from tests.helpers import grant, terms_of, withdraw

pytestmark = pytest.mark.django_db

ISO_27560_FIELDS = {
    "schema",
    "schema_version",
    "record_id",
    "pii_principal_id",
    "notice",
    "purposes",
    "pii_categories",
    "controller",
    "recipients",
    "retention",
    "consent_validity",
    "jurisdiction",
    "withdrawal_method",
    "event",
    "integrity",
}
KANTARA_FIELDS = {
    "version",
    "jurisdiction",
    "consentTimestamp",
    "collectionMethod",
    "consentReceiptID",
    "language",
    "piiPrincipalId",
    "piiControllers",
    "policyUrl",
    "services",
    "sensitive",
    "spiCat",
}


@pytest.fixture(autouse=True)
def english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def resident(client):
    user = UserFactory.create()
    client.force_login(user)
    return user


def test_receipt_json_has_the_iso_27560_fields(client, resident) -> None:
    event = grant(resident, "school_letters", "household")
    terms = terms_of("school_letters")

    receipt = client.get(f"/consent/receipts/{event.public_id}.json").json()

    assert receipt.keys() >= ISO_27560_FIELDS
    assert receipt["schema"]["standard"] == "ISO/IEC TS 27560:2023"
    assert receipt["record_id"] == str(event.public_id)
    assert receipt["pii_principal_id"] == str(resident.pseudonym)
    assert receipt["notice"]["notice_id"] == terms.content_hash
    assert receipt["notice"]["version"] == terms.version
    assert receipt["notice"]["language"] == "en"
    assert receipt["notice"]["text"] == terms.text_en
    assert receipt["notice"]["url"].endswith("/consent/purposes/school_letters/")
    assert receipt["purposes"] == [
        {
            "code": "school_letters",
            "name": "School letters for my children",
            "description": "Letters from your children's schools, for their grades.",
            "dpv_term": "dpv:CommunicationManagement",
        }
    ]
    assert [c["dpv_term"] for c in receipt["pii_categories"]] == ["pd:FamilyStructure"]
    assert receipt["controller"]["code"] == "city"
    assert receipt["controller"]["role"] == "controller"
    assert {(r["code"], r["role"]) for r in receipt["recipients"]} == {
        ("city", "controller"),
        ("board_of_education", "third_party"),
    }
    assert receipt["retention"]["duration"] == "P30D"
    assert receipt["consent_validity"] == "P365D"
    assert receipt["jurisdiction"] == "JP"
    assert receipt["withdrawal_method"] == terms.withdrawal_method_en
    assert receipt["event"]["type"] == "grant"
    assert receipt["event"]["state"] == "given"
    assert receipt["event"]["channel"] == "web"
    assert receipt["event"]["recorded_by"] == {
        "kind": "resident",
        "pseudonym": str(resident.pseudonym),
    }
    assert receipt["integrity"] == {
        "algorithm": "SHA-256",
        "hash": event.hash,
        "previous_hash": event.previous_hash,
    }


def test_receipt_event_time_is_iso_8601_with_an_offset(client, resident) -> None:
    event = grant(resident, "personalised_home", "interests")
    receipt = client.get(f"/consent/receipts/{event.public_id}.json").json()
    moment = datetime.fromisoformat(receipt["event"]["time"])
    assert moment.utcoffset() is not None
    assert moment == event.occurred_at


def test_receipt_json_has_the_kantara_projection(client, resident) -> None:
    event = grant(resident, "school_letters", "household")

    kantara = client.get(f"/consent/receipts/{event.public_id}.json").json()[
        "kantara_consent_receipt_v1_1"
    ]

    assert kantara.keys() >= KANTARA_FIELDS
    assert kantara["version"] == "KI-CR-v1.1.0"
    assert kantara["jurisdiction"] == "JP"
    assert kantara["consentTimestamp"] == int(event.occurred_at.timestamp())
    assert kantara["consentReceiptID"] == str(event.public_id)
    assert kantara["piiPrincipalId"] == str(resident.pseudonym)
    assert kantara["piiControllers"][0]["piiController"].startswith("The city")
    assert kantara["sensitive"] is False
    assert kantara["spiCat"] == []
    [purpose] = kantara["services"][0]["purposes"]
    assert purpose["consentType"] == "EXPLICIT"
    assert purpose["purposeCategory"] == ["dpv:CommunicationManagement"]
    assert purpose["piiCategory"] == ["Household (children's school and grade)"]
    assert purpose["thirdPartyDisclosure"] is True
    assert purpose["thirdPartyName"] == "The board of education"


def test_receipt_never_contains_the_email(client, resident) -> None:
    event = grant(resident, "personalised_home", "interests")
    json_body = client.get(f"/consent/receipts/{event.public_id}.json").content.decode()
    page = client.get(f"/consent/receipts/{event.public_id}/").content.decode()
    assert resident.email not in json_body
    assert resident.email not in page
    assert str(resident.pseudonym) in json_body


def test_receipt_json_is_served_inline_as_readable_json(client, resident) -> None:
    event = grant(resident, "personalised_home", "interests")
    response = client.get(f"/consent/receipts/{event.public_id}.json?lang=ja")
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("inline")
    body = response.content.decode("utf-8")
    assert "関心のある分野" in body  # Japanese as itself, not \u escapes
    assert json.loads(body)["language"] == "ja"


def test_receipt_page_shows_the_receipt_and_links_to_the_json(client, resident) -> None:
    event = grant(resident, "disaster_warnings", "places")
    html = client.get(f"/consent/receipts/{event.public_id}/").content.decode()
    assert "You agreed that “Disaster warnings for my areas” may use the information" in html
    assert "Places" in html
    assert str(event.public_id) in html
    assert f'href="/consent/receipts/{event.public_id}.json"' in html


@pytest.mark.parametrize("suffix", ["/", ".json"])
def test_another_residents_receipt_is_not_found(client, resident, suffix) -> None:
    other = UserFactory.create()
    event = grant(other, "personalised_home", "interests")
    assert client.get(f"/consent/receipts/{event.public_id}{suffix}").status_code == 404


@pytest.mark.parametrize("suffix", ["/", ".json"])
def test_anonymous_visitor_is_sent_to_log_in_for_a_receipt(client, suffix) -> None:
    event = grant(UserFactory.create(), "personalised_home", "interests")
    response = client.get(f"/consent/receipts/{event.public_id}{suffix}")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_withdrawal_receipt_has_the_withdrawn_state(resident) -> None:
    grant(resident, "personalised_home", "interests")
    [event] = withdraw(resident, purpose="personalised_home").events
    receipt = consent_receipt(event, language="en")
    assert receipt["event"]["state"] == "withdrawn"
    assert receipt["event"]["dpv_term"] == "dpv:ConsentWithdrawn"


def test_counter_receipt_names_the_staff_pseudonym_and_the_paper_form(resident) -> None:
    staff = StaffFactory.create(roles=["counter_clerk"])
    event = consent_grant(
        resident=resident,
        terms_id=terms_of("disaster_warnings").pk,
        category_codes=["places"],
        actor=Actor.counter_staff(staff, paper_form_reference="AIZU-2026-0042"),
    )
    receipt = consent_receipt(event, language="en")
    assert receipt["event"]["channel"] == "counter"
    assert receipt["event"]["recorded_by"] == {"kind": "staff", "pseudonym": str(staff.pseudonym)}
    assert receipt["event"]["paper_form_reference"] == "AIZU-2026-0042"
    assert "AIZU-2026-0042" in receipt["kantara_consent_receipt_v1_1"]["collectionMethod"]
    assert staff.email not in json.dumps(receipt, ensure_ascii=False)


def test_receipt_is_in_the_language_asked_for(resident) -> None:
    event = grant(resident, "personalised_home", "interests")
    japanese = consent_receipt(event, language="ja")
    english = consent_receipt(event, language="en-us")
    assert japanese["pii_categories"][0]["name"] == "関心のある分野"
    assert japanese["notice"]["text"] == terms_of("personalised_home").text_ja
    assert english["pii_categories"][0]["name"] == "Interests"
    assert english["language"] == "en"
