"""Counter-assisted consent: staff with the permission record a resident's paper form.

A form needs an unused reference from the register; only a verified resident account can be
recorded for; the address on the form is told at once; the clerk's screen says the same
whatever the address is; every use is in the staff audit log.
"""

from __future__ import annotations

import re
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.messages import get_messages
from django.core import mail

from consent import policy
from consent.emails import counter_notice_send
from consent.models import ConsentEvent, PaperForm, PaperFormStatus
from consent.services import paper_form_batch_issue, paper_form_void
from portal.models import StaffAuditEntry
from tests.factories import StaffFactory, UserFactory
from tests.helpers import grant, log_in_with_mfa, publish_material_change, with_totp

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


@pytest.fixture
def references() -> list[str]:
    """A batch of five forms, issued by a consent officer to the city hall counter."""
    officer = StaffFactory.create(roles=["consent_officer"])
    batch = paper_form_batch_issue(officer=officer, size=5, issued_to="City hall counter")
    return list(batch.forms.order_by("serial").values_list("reference", flat=True))


@pytest.fixture
def notices_sent_at_once():
    """Run the email task where the flow enqueues it, once the transaction commits."""
    with mock.patch(
        "consent.flows.send_counter_notice.apply_async",
        side_effect=lambda kwargs, **options: counter_notice_send(**kwargs),
    ) as delay:
        yield delay


def paper_form(resident, reference: str, **overrides) -> dict[str, object]:
    data: dict[str, object] = {
        "email": resident.email if resident else "nobody@example.jp",
        "purpose": "disaster_warnings",
        "categories_disaster_warnings": ["places", "location"],
        "action": "grant",
        "paper_form_reference": reference,
        "terms_version": 1,
    }
    data.update(overrides)
    return data


def ledger() -> list[ConsentEvent]:
    return list(ConsentEvent.objects.order_by("id"))


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


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
    assert client.post(URL, paper_form(UserFactory.create(), "MP-000001-8")).status_code == 403
    assert ledger() == []


def test_staff_without_mfa_is_sent_to_set_up_totp(client) -> None:
    client.force_login(StaffFactory.create(roles=["counter_clerk"]))
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_staff_whose_session_skipped_the_second_factor_are_asked_for_a_code(client) -> None:
    client.force_login(with_totp(StaffFactory.create(roles=["counter_clerk"])))
    form = paper_form(UserFactory.create(), "MP-000001-8")
    for response in (client.get(URL), client.post(URL, form)):
        assert response.status_code == 302
        assert (
            response["Location"]
            == "/accounts/2fa/reauthenticate/?next=%2Fstaff%2Fconsent%2Fcounter%2F"
        )
    assert ledger() == []


def test_counter_page_offers_every_purposes_categories(client) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["counter_clerk"])))
    html = client.get(URL).content.decode()
    assert 'name="categories_school_letters" value="household"' in html
    assert 'name="purpose" value="disaster_warnings"' in html
    assert "terms version 1" in html


def test_counter_records_a_paper_consent_with_the_form_reference(
    client, clerk, references, django_capture_on_commit_callbacks, notices_sent_at_once
) -> None:
    resident = UserFactory.create()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, paper_form(resident, references[0]), follow=True)

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
    assert event.paper_form_reference == references[0]
    [message] = flashes(response)
    assert references[0] in message
    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == {
        "places",
        "location",
    }


def test_the_resident_is_emailed_the_receipt_and_the_dispute_link_at_once(
    client, clerk, references, django_capture_on_commit_callbacks, notices_sent_at_once
) -> None:
    resident = UserFactory.create()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, paper_form(resident, references[0]))

    [email] = mail.outbox
    [event] = ledger()
    assert email.to == [resident.email]
    assert f"{settings.SITE_URL}/consent/receipts/{event.public_id}/" in email.body
    assert f"{settings.SITE_URL}/consent/paper-forms/{references[0]}/dispute/" in email.body
    assert email.subject == (
        "[Machi+] あなたの名前で同意の書面が記録されました"
        " / A paper consent form was recorded in your name"
    )
    assert email.body.index("市の職員が窓口で") < email.body.index("city staff recorded")


def test_the_resident_sees_the_counter_consent_in_their_history(client, clerk, references) -> None:
    resident = UserFactory.create()
    client.post(URL, paper_form(resident, references[0]))
    event = ledger()[0]

    client.force_login(resident)
    html = client.get("/consent/").content.decode()

    assert "city counter (paper form)" in html
    assert references[0] in html
    assert f'href="/consent/receipts/{event.public_id}/"' in html


def test_counter_records_a_paper_withdrawal(client, clerk, references) -> None:
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places", "location")

    client.post(
        URL,
        paper_form(
            resident, references[0], action="withdraw", categories_disaster_warnings=["location"]
        ),
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


def _unverified_resident():
    resident = UserFactory.create()
    EmailAddress.objects.filter(user=resident).update(verified=False)
    return resident


@pytest.mark.parametrize(
    "account",
    [
        pytest.param(lambda: None, id="no account"),
        pytest.param(_unverified_resident, id="unverified address"),
        pytest.param(lambda: StaffFactory.create(), id="staff account"),
        pytest.param(lambda: StaffFactory.create(roles=["publisher"]), id="staff role"),
        pytest.param(lambda: UserFactory.create(is_superuser=True), id="superuser"),
    ],
)
def test_a_form_for_anything_but_a_verified_resident_records_nothing(
    client, clerk, references, account
) -> None:
    client.post(URL, paper_form(account(), references[0]))

    assert ledger() == []
    used = PaperForm.objects.get(reference=references[0])
    assert used.status == PaperFormStatus.USED
    assert used.subject_pseudonym is None


def test_the_clerk_is_told_the_same_for_known_and_unknown_addresses(
    client, clerk, references
) -> None:
    known = client.post(URL, paper_form(UserFactory.create(), references[0]), follow=True)
    unknown = client.post(URL, paper_form(None, references[1]), follow=True)

    def anonymised(response) -> tuple[int, list[str], str]:
        # Tokens and nonces change on every page, whoever the form was for.
        html = re.sub(
            r'(csrfmiddlewaretoken" value="|nonce="|X-CSRFToken": ")[^"]*"',
            "TOKEN",
            response.content.decode(),
        )
        return (
            response.status_code,
            [_without(references, m) for m in flashes(response)],
            _without(references, html),
        )

    assert anonymised(known) == anonymised(unknown)


def _without(references: list[str], text: str) -> str:
    for reference in references:
        text = text.replace(reference, "REF")
    return text


def test_an_address_without_a_verified_resident_account_is_told_nothing_was_recorded(
    client, clerk, references, django_capture_on_commit_callbacks, notices_sent_at_once
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, paper_form(None, references[0]))

    [email] = mail.outbox
    assert email.to == ["nobody@example.jp"]
    assert "nothing was recorded" in email.body
    register_row = PaperForm.objects.filter(reference=references[0]).values()
    assert "nobody@example.jp" not in str(list(register_row))


def test_every_counter_use_is_in_the_staff_audit_log_without_the_residents_email(
    client, clerk, references
) -> None:
    resident = UserFactory.create()
    client.post(URL, paper_form(resident, references[0]))
    client.post(URL, paper_form(None, references[1]))

    grant_entry, unmatched_entry = StaffAuditEntry.objects.filter(
        action="consent.counter.grant"
    ).order_by("id")
    assert (grant_entry.actor, grant_entry.reference) == (clerk, references[0])
    assert grant_entry.subject_pseudonym == resident.pseudonym
    assert grant_entry.ip_address == "127.0.0.1"
    assert (unmatched_entry.reference, unmatched_entry.subject_pseudonym) == (references[1], None)
    logged = str(list(StaffAuditEntry.objects.values()))
    assert resident.email not in logged
    assert "nobody@example.jp" not in logged


def test_a_reference_counts_once(client, clerk, references) -> None:
    first, second = UserFactory.create(), UserFactory.create()
    client.post(URL, paper_form(first, references[0]))

    response = client.post(URL, paper_form(second, references[0]))

    assert "was already used on" in response.content.decode()
    assert [e.subject_pseudonym for e in ledger()] == [first.pseudonym]


def test_a_reference_never_issued_is_refused(client, clerk, references) -> None:
    from consent.references import format_reference

    response = client.post(
        URL, paper_form(UserFactory.create(), format_reference(settings.PAPER_FORM_PREFIX, 99))
    )

    assert "has not been issued" in response.content.decode()
    assert ledger() == []


def test_a_voided_reference_is_refused(client, clerk, references) -> None:
    officer = StaffFactory.create(roles=["consent_officer"])
    paper_form_void(officer=officer, reference=references[0], reason="spoiled at printing")

    response = client.post(URL, paper_form(UserFactory.create(), references[0]))

    assert "was voided (spoiled at printing)" in response.content.decode()
    assert ledger() == []


def test_a_mistyped_reference_is_refused_without_using_another_form(
    client, clerk, references
) -> None:
    mistyped = references[0][:-1] + str((int(references[0][-1]) + 1) % 10)

    response = client.post(URL, paper_form(UserFactory.create(), mistyped))

    assert "is not a reference of the register" in response.content.decode()
    assert ledger() == []
    assert not PaperForm.objects.filter(status=PaperFormStatus.USED).exists()


def test_a_reference_typed_in_full_width_is_read(client, clerk, references) -> None:
    import unicodedata

    full_width = "".join(
        chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in references[0].lower()
    )
    assert unicodedata.normalize("NFKC", full_width) == references[0].lower()

    client.post(URL, paper_form(UserFactory.create(), full_width))

    assert [e.paper_form_reference for e in ledger()] == [references[0]]


def test_the_counter_page_states_its_rules(client, clerk) -> None:
    html = client.get(URL).content.decode()
    assert "Rules of the counter" in html
    assert "Each form counts once" in html
    assert "never for staff accounts or unconfirmed addresses" in html
    assert "staff audit log" in html


def test_counter_rejects_a_blank_form_reference_and_records_nothing(client, clerk) -> None:
    response = client.post(URL, paper_form(UserFactory.create(), "   "))
    assert response.status_code == 200
    assert "Enter the paper form&#x27;s reference." in response.content.decode()
    assert ledger() == []


def test_counter_rejects_categories_ticked_under_another_purpose(client, clerk, references) -> None:
    response = client.post(
        URL,
        paper_form(UserFactory.create(), references[0], categories_school_letters=["household"]),
    )
    assert response.status_code == 200
    assert "not under the chosen purpose" in response.content.decode()
    assert ledger() == []
    assert PaperForm.objects.get(reference=references[0]).status == PaperFormStatus.ISSUED


def test_counter_rejects_a_category_the_terms_do_not_cover(client, clerk, references) -> None:
    response = client.post(
        URL,
        paper_form(UserFactory.create(), references[0], categories_disaster_warnings=["household"]),
    )
    assert response.status_code == 200
    assert "is not a data category these terms cover" in response.content.decode()
    assert ledger() == []


def test_a_paper_form_signed_for_an_older_terms_version_is_refused(
    client, clerk, references
) -> None:
    resident = UserFactory.create()
    publish_material_change("disaster_warnings")
    client.cookies["django_language"] = "en"

    response = client.post(URL, paper_form(resident, references[0], terms_version=1))

    assert response.status_code in (200, 400)
    assert "current terms are version 2" in response.content.decode()
    assert ledger() == []


def test_a_paper_grant_of_what_the_resident_already_shares_under_these_terms_changes_nothing(
    client, clerk, references
) -> None:
    resident = UserFactory.create()
    own = grant(resident, "disaster_warnings", "places")

    client.post(URL, paper_form(resident, references[0]))

    [event] = ledger()[1:]
    assert event.category_codes == ["location"]
    assert own.pk < event.pk


def test_a_paper_grant_that_changes_nothing_says_so_in_the_email(
    client, clerk, references, django_capture_on_commit_callbacks, notices_sent_at_once
) -> None:
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places", "location")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, paper_form(resident, references[0]))

    [email] = mail.outbox
    assert "you already share this under the current terms" in email.body
    assert "none of these consents was active" not in email.body


def test_a_paper_withdrawal_email_says_a_dispute_gives_the_consent_again(
    client, clerk, references, django_capture_on_commit_callbacks, notices_sent_at_once
) -> None:
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            URL,
            paper_form(
                resident, references[0], action="withdraw", categories_disaster_warnings=["places"]
            ),
        )

    [email] = mail.outbox
    assert "the consents it ended are given again at once" in email.body
    assert f"kept for {settings.COUNTER_WITHDRAWAL_HOLD_DAYS} days" in email.body
