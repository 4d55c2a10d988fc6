"""A resident disputes a paper form recorded in their name, from "my data" or the email."""

from __future__ import annotations

import pytest
from django.conf import settings

from consent import policy
from consent.flows import CounterRequest, counter_consent_record
from consent.models import CounterDispute, PaperForm
from consent.services import paper_form_batch_issue
from portal.models import StaffAuditEntry
from tests.factories import StaffFactory, UserFactory
from tests.helpers import grant, log_in_with_mfa, terms_of, with_totp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def references() -> list[str]:
    batch = paper_form_batch_issue(
        officer=StaffFactory.create(roles=["consent_officer"]), size=3, issued_to="City hall"
    )
    return list(batch.forms.order_by("serial").values_list("reference", flat=True))


def record_at_counter(resident, reference: str, *, withdraw: bool = False) -> PaperForm:
    return counter_consent_record(
        staff=StaffFactory.create(roles=["counter_clerk"]),
        request=CounterRequest(
            paper_form_reference=reference,
            email=resident.email,
            terms=terms_of("disaster_warnings"),
            category_codes=["places", "location"],
            withdraw=withdraw,
        ),
    )


def dispute_url(reference: str) -> str:
    return f"/consent/paper-forms/{reference}/dispute/"


def test_my_data_lists_the_paper_forms_recorded_for_me_with_a_dispute_link(
    client, references
) -> None:
    resident = UserFactory.create()
    record_at_counter(resident, references[0])
    client.force_login(resident)

    html = client.get("/me/").content.decode()

    assert "Paper forms recorded at the city counter" in html
    assert f'href="{dispute_url(references[0])}"' in html


def test_disputing_a_counter_grant_stops_it_at_once(client, references) -> None:
    resident = UserFactory.create()
    record_at_counter(resident, references[0])
    client.force_login(resident)

    response = client.post(dispute_url(references[0]), {"reason": "I never signed this."})

    assert response.status_code == 302
    dispute = CounterDispute.objects.get()
    assert dispute.reason == "I never signed this."
    assert dispute.withdrawn_category_codes == ["location", "places"]
    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == set()


def test_a_dispute_leaves_consents_the_resident_gave_online_alone(client, references) -> None:
    resident = UserFactory.create()
    record_at_counter(resident, references[0])
    grant(resident, "school_letters", "household")
    client.force_login(resident)

    client.post(dispute_url(references[0]), {"reason": "Not mine."})

    assert policy.allowed_categories(resident_id=resident.pk, purpose="school_letters") == {
        "household"
    }


def test_a_disputed_withdrawal_is_flagged_but_grants_nothing(client, references) -> None:
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places")
    record_at_counter(resident, references[0], withdraw=True)
    client.force_login(resident)

    client.post(dispute_url(references[0]), {"reason": "I wanted to keep sharing."})

    assert CounterDispute.objects.get().withdrawn_category_codes == []
    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == set()


def test_a_dispute_needs_a_reason(client, references) -> None:
    resident = UserFactory.create()
    record_at_counter(resident, references[0])
    client.force_login(resident)

    response = client.post(dispute_url(references[0]), {"reason": "  "})

    assert "Tell us what is wrong with this record." in response.content.decode()
    assert not CounterDispute.objects.exists()


def test_a_form_is_disputed_once(client, references) -> None:
    resident = UserFactory.create()
    record_at_counter(resident, references[0])
    client.force_login(resident)
    client.post(dispute_url(references[0]), {"reason": "Not mine."})

    page = client.get(dispute_url(references[0])).content.decode()
    client.post(dispute_url(references[0]), {"reason": "Again."})

    assert "You disputed this form on" in page
    assert CounterDispute.objects.count() == 1


def test_another_residents_paper_form_is_not_found(client, references) -> None:
    record_at_counter(UserFactory.create(), references[0])
    client.force_login(UserFactory.create())

    assert client.get(dispute_url(references[0])).status_code == 404
    assert client.post(dispute_url(references[0]), {"reason": "x"}).status_code == 404
    assert not CounterDispute.objects.exists()


def test_the_consent_officer_sees_open_disputes_and_resolves_them(client, references) -> None:
    resident = UserFactory.create()
    record_at_counter(resident, references[0])
    client.force_login(resident)
    client.post(dispute_url(references[0]), {"reason": "I never signed this."})
    client.logout()
    officer = with_totp(StaffFactory.create(roles=["consent_officer"]))
    log_in_with_mfa(client, officer)

    before = client.get("/staff/consent/register/").content.decode()
    dispute = CounterDispute.objects.get()
    client.post(
        "/staff/consent/register/",
        {
            "action": "resolve",
            "resolve-dispute": dispute.pk,
            "resolve-resolution": "Clerk typed the wrong address; apologised.",
        },
    )
    after = client.get("/staff/consent/register/").content.decode()

    assert "I never signed this." in before
    assert "I never signed this." not in after
    dispute.refresh_from_db()
    assert dispute.resolved_by == officer
    [entry] = StaffAuditEntry.objects.filter(action="consent.counter.dispute_resolved")
    assert (entry.reference, entry.subject_pseudonym) == (references[0], resident.pseudonym)
