"""The register of paper consent forms: consent officers issue numbered batches, void forms
and see every use; clerks cannot touch it."""

from __future__ import annotations

import pytest
from django.conf import settings

from consent.flows import CounterRequest, counter_consent_record
from consent.models import PaperForm, PaperFormBatch, PaperFormStatus
from consent.references import format_reference
from consent.services import ConsentError, paper_form_batch_issue
from portal.models import StaffAuditEntry
from tests.factories import StaffFactory, UserFactory
from tests.helpers import log_in_with_mfa, terms_of, with_totp

pytestmark = pytest.mark.django_db

URL = "/staff/consent/register/"


@pytest.fixture(autouse=True)
def english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def officer(client):
    staff = with_totp(StaffFactory.create(roles=["consent_officer"]))
    log_in_with_mfa(client, staff)
    return staff


def issue(client, size: int = 3, issued_to: str = "Kita branch office"):
    return client.post(
        URL, {"action": "issue", "issue-size": size, "issue-issued_to": issued_to}, follow=True
    )


def test_batches_are_numbered_and_their_serials_follow_on(client, officer) -> None:
    issue(client, size=3)
    issue(client, size=2)

    first, second = PaperFormBatch.objects.order_by("number")
    assert (first.number, first.first_serial, first.last_serial) == (1, 1, 3)
    assert (second.number, second.first_serial, second.last_serial) == (2, 4, 5)
    assert list(PaperForm.objects.values_list("reference", flat=True)) == [
        format_reference(settings.PAPER_FORM_PREFIX, serial) for serial in range(1, 6)
    ]
    assert set(PaperForm.objects.values_list("status", flat=True)) == {PaperFormStatus.ISSUED}


def test_issuing_a_batch_is_in_the_staff_audit_log(client, officer) -> None:
    issue(client, size=3)

    [entry] = StaffAuditEntry.objects.filter(action="consent.paper_forms.issue")
    assert entry.actor == officer
    assert entry.reference == "batch 1"
    assert entry.detail["issued_to"] == "Kita branch office"


@pytest.mark.parametrize(
    ("size", "issued_to"), [(0, "Kita"), (settings.PAPER_FORM_BATCH_MAX + 1, "Kita"), (5, " ")]
)
def test_a_batch_of_no_size_too_big_or_for_nobody_is_refused(
    client, officer, size, issued_to
) -> None:
    response = issue(client, size=size, issued_to=issued_to)

    assert "There is a problem" in response.content.decode()
    assert not PaperFormBatch.objects.exists()


def test_the_service_refuses_an_oversized_batch_as_well() -> None:
    with pytest.raises(ConsentError):
        paper_form_batch_issue(
            officer=StaffFactory.create(),
            size=settings.PAPER_FORM_BATCH_MAX + 1,
            issued_to="Kita",
        )


def test_voiding_takes_a_form_out_of_use_and_is_logged(client, officer) -> None:
    issue(client, size=2)
    reference = format_reference(settings.PAPER_FORM_PREFIX, 2)

    client.post(URL, {"action": "void", "void-reference": reference, "void-reason": "lost"})

    voided = PaperForm.objects.get(reference=reference)
    assert (voided.status, voided.void_reason) == (PaperFormStatus.VOIDED, "lost")
    [entry] = StaffAuditEntry.objects.filter(action="consent.paper_forms.void")
    assert (entry.actor, entry.reference) == (officer, reference)


def test_a_form_cannot_be_voided_twice(client, officer) -> None:
    issue(client, size=1)
    reference = format_reference(settings.PAPER_FORM_PREFIX, 1)
    client.post(URL, {"action": "void", "void-reference": reference, "void-reason": "lost"})

    response = client.post(
        URL, {"action": "void", "void-reference": reference, "void-reason": "again"}
    )

    assert "was voided (lost)" in response.content.decode()
    assert StaffAuditEntry.objects.filter(action="consent.paper_forms.void").count() == 1


def test_the_register_shows_each_batchs_counts_and_the_batch_page_lists_its_forms(
    client, officer
) -> None:
    issue(client, size=3)
    client.post(
        URL,
        {
            "action": "void",
            "void-reference": format_reference(settings.PAPER_FORM_PREFIX, 3),
            "void-reason": "spoiled",
        },
    )

    register = client.get(URL).content.decode()
    batch_page = client.get(f"{URL}batches/1/").content.decode()

    assert "Kita branch office" in register
    assert 'href="/staff/consent/register/batches/1/"' in register
    for serial in (1, 2, 3):
        assert format_reference(settings.PAPER_FORM_PREFIX, serial) in batch_page
    assert "spoiled" in batch_page


def test_an_unknown_batch_is_not_found(client, officer) -> None:
    assert client.get(f"{URL}batches/9/").status_code == 404


def test_a_counter_clerk_cannot_open_the_register(client) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["counter_clerk"])))

    assert client.get(URL).status_code == 403
    assert issue(client).status_code == 403
    assert not PaperFormBatch.objects.exists()


def test_the_batch_page_names_what_each_used_form_asked_for(client, officer) -> None:
    issue(client, size=1)
    counter_consent_record(
        staff=StaffFactory.create(roles=["counter_clerk"]),
        request=CounterRequest(
            paper_form_reference=format_reference(settings.PAPER_FORM_PREFIX, 1),
            email=UserFactory.create().email,
            terms=terms_of("school_letters"),
            category_codes=["household"],
            withdraw=False,
        ),
    )

    html = client.get(f"{URL}batches/1/").content.decode()

    assert "School letters" in html or "school" in html.lower()
    assert "school_letters" not in html
    assert "household" not in html
