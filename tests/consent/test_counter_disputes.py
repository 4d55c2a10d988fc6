"""A resident disputes a paper form recorded in their name, from "my data" or the email."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from consent import policy
from consent.flows import CounterRequest, counter_consent_record
from consent.models import ConsentEvent, CounterDispute, PaperForm
from consent.services import counter_withdrawal_holds_release, paper_form_batch_issue
from portal.models import StaffAuditEntry
from portal.residents import services as profile_services
from tests.factories import DistrictFactory, StaffFactory, UserFactory
from tests.helpers import grant, log_in_with_mfa, publish_material_change, terms_of, with_totp

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


def with_home(resident):
    """A resident who shares their home district for disaster warnings."""
    grant(resident, "disaster_warnings", "places")
    profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=DistrictFactory.create().code
    )
    return resident


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


def test_disputing_a_counter_withdrawal_gives_the_consent_again(client, references) -> None:
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places")
    record_at_counter(resident, references[0], withdraw=True)
    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == set()
    client.force_login(resident)

    client.post(dispute_url(references[0]), {"reason": "I wanted to keep sharing."})

    dispute = CounterDispute.objects.get()
    assert (dispute.withdrawn_category_codes, dispute.restored_category_codes) == ([], ["places"])
    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == {
        "places"
    }
    restored = ConsentEvent.objects.order_by("-id")[0]
    assert (restored.kind, restored.channel, restored.actor_kind) == ("grant", "web", "resident")


def test_a_counter_withdrawal_stops_use_at_once_but_holds_the_data_for_the_dispute_window(
    references,
) -> None:
    resident = with_home(UserFactory.create())
    record_at_counter(resident, references[0], withdraw=True)

    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == set()
    assert policy.read_own_data(resident_id=resident.pk).places


def test_the_held_data_is_erased_once_the_dispute_window_has_passed(references) -> None:
    resident = with_home(UserFactory.create())
    record_at_counter(resident, references[0], withdraw=True)
    window = timedelta(days=settings.COUNTER_WITHDRAWAL_HOLD_DAYS)

    assert counter_withdrawal_holds_release(now=timezone.now() + window / 2) == 0
    assert policy.read_own_data(resident_id=resident.pk).places
    assert counter_withdrawal_holds_release(now=timezone.now() + window * 1.01) == 1
    assert policy.read_own_data(resident_id=resident.pk).places == ()
    assert counter_withdrawal_holds_release(now=timezone.now() + window * 2) == 0


def test_an_open_dispute_keeps_holding_the_data_past_the_window(client, references) -> None:
    resident = with_home(UserFactory.create())
    record_at_counter(resident, references[0], withdraw=True)
    # Terms replaced meanwhile: the dispute cannot give the consent again under the old ones.
    publish_material_change("disaster_warnings")
    client.force_login(resident)
    client.post(dispute_url(references[0]), {"reason": "Not me."})
    later = timezone.now() + timedelta(days=settings.COUNTER_WITHDRAWAL_HOLD_DAYS + 1)

    assert counter_withdrawal_holds_release(now=later) == 0
    assert policy.read_own_data(resident_id=resident.pk).places


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


def test_the_resident_is_emailed_the_consent_officers_answer(
    client, references, django_capture_on_commit_callbacks
) -> None:
    from unittest import mock

    from django.core import mail

    from consent.emails import dispute_answer_send
    from consent.flows import counter_dispute_answer
    from consent.services import counter_dispute_open

    resident = UserFactory.create()
    record_at_counter(resident, references[0])
    dispute = counter_dispute_open(resident=resident, reference=references[0], reason="Not me.")
    officer = StaffFactory.create(roles=["consent_officer"])

    with (
        mock.patch(
            "consent.flows.send_dispute_answer.apply_async",
            side_effect=lambda kwargs, **options: dispute_answer_send(**kwargs),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        counter_dispute_answer(
            officer=officer, dispute_id=dispute.pk, resolution="The clerk mistyped the address."
        )

    [email] = mail.outbox
    assert email.to == [resident.email]
    assert "The clerk mistyped the address." in email.body
    assert references[0] in email.subject


def test_my_data_says_when_a_dispute_was_answered(client, references) -> None:
    from consent.services import counter_dispute_open, counter_dispute_resolve

    resident = UserFactory.create()
    record_at_counter(resident, references[0])
    dispute = counter_dispute_open(resident=resident, reference=references[0], reason="Not me.")
    counter_dispute_resolve(
        officer=StaffFactory.create(roles=["consent_officer"]),
        dispute_id=dispute.pk,
        resolution="Sorted.",
    )
    client.force_login(resident)

    assert "disputed, answered" in client.get("/me/").content.decode()
