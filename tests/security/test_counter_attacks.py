"""Attacks on counter consents, the paper-form register and disputes (issue 7, finding 2),
from a security review: each asserts the secure behaviour."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import connection
from django.test import Client

from consent import policy
from consent.models import ConsentEvent, PaperForm, PaperFormStatus
from consent.services import paper_form_batch_issue, paper_form_void
from tests.factories import StaffFactory, UserFactory
from tests.helpers import grant, log_in_with_mfa, with_totp

pytestmark = pytest.mark.django_db

COUNTER = "/staff/consent/counter/"


@pytest.fixture(autouse=True)
def english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def officer_batch():
    officer = StaffFactory.create(roles=["consent_officer"])
    batch = paper_form_batch_issue(officer=officer, size=6, issued_to="City hall counter")
    refs = list(batch.forms.order_by("serial").values_list("reference", flat=True))
    return batch, refs


def form_data(email: str, reference: str, **overrides) -> dict[str, object]:
    data: dict[str, object] = {
        "email": email,
        "purpose": "disaster_warnings",
        "categories_disaster_warnings": ["places"],
        "action": "grant",
        "paper_form_reference": reference,
        "terms_version": 1,
    }
    data.update(overrides)
    return data


def _row_of(html: str, reference: str) -> str:
    match = re.search(r"<tr>\s*<td>" + re.escape(reference) + r"</td>(.*?)</tr>", html, re.S)
    assert match, reference
    return re.sub(r"\s+", " ", match.group(1))


# ---------------------------------------------------------------------------------------------
# Account enumeration: whoever sees which forms matched an account cannot try addresses
# ---------------------------------------------------------------------------------------------


def test_a_consent_officer_cannot_record_at_the_counter(client, officer_batch) -> None:
    _batch, refs = officer_batch
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["consent_officer"])))

    assert client.get(COUNTER).status_code == 403
    assert client.post(COUNTER, form_data(UserFactory.create().email, refs[0])).status_code == 403
    assert PaperForm.objects.get(reference=refs[0]).status == PaperFormStatus.ISSUED


@pytest.mark.parametrize(
    "powers",
    [
        pytest.param({"roles": ["counter_clerk", "consent_officer"]}, id="both roles"),
        pytest.param({"roles": ["counter_clerk"], "is_superuser": True}, id="superuser"),
    ],
)
def test_a_clerk_who_can_also_read_the_register_cannot_record_at_the_counter(
    client, officer_batch, powers
) -> None:
    _batch, refs = officer_batch
    log_in_with_mfa(client, with_totp(StaffFactory.create(**powers)))

    response = client.post(COUNTER, form_data(UserFactory.create().email, refs[0]))

    assert response.status_code == 403
    assert "kept apart" in response.content.decode()
    assert not ConsentEvent.objects.exists()


def test_a_counter_clerk_sees_neither_the_register_nor_the_audit_log(client) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["counter_clerk"])))

    assert client.get("/staff/consent/register/").status_code == 403
    assert client.get("/admin/portal/staffauditentry/").status_code == 403


def test_the_batch_page_does_not_say_whether_a_used_form_matched_an_account(
    officer_batch,
) -> None:
    batch, refs = officer_batch
    clerk = with_totp(StaffFactory.create(roles=["counter_clerk"]))
    clerk_client, officer_client = Client(), Client()
    log_in_with_mfa(clerk_client, clerk)
    clerk_client.post(COUNTER, form_data(UserFactory.create().email, refs[0]))
    clerk_client.post(COUNTER, form_data("nobody@example.jp", refs[1]))
    log_in_with_mfa(officer_client, with_totp(StaffFactory.create(roles=["consent_officer"])))

    html = officer_client.get(f"/staff/consent/register/batches/{batch.number}/").content.decode()

    assert _row_of(html, refs[0]) == _row_of(html, refs[1]).replace(refs[1], refs[0])


# ---------------------------------------------------------------------------------------------
# What held (regression tests)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def clerk(client):
    staff = with_totp(StaffFactory.create(roles=["counter_clerk"]))
    log_in_with_mfa(client, staff)
    return staff


def test_a_clerk_cannot_record_for_themselves_or_another_clerk(client, clerk, officer_batch):
    _batch, refs = officer_batch
    other = StaffFactory.create(roles=["counter_clerk"], is_staff=False)
    client.post(COUNTER, form_data(clerk.email, refs[0]))
    client.post(COUNTER, form_data(other.email.upper(), refs[1]))
    assert ConsentEvent.objects.count() == 0


def test_a_reference_is_used_once_even_typed_differently(client, clerk, officer_batch) -> None:
    _batch, refs = officer_batch
    r1, r2 = UserFactory.create(), UserFactory.create()
    client.post(COUNTER, form_data(r1.email, refs[0]))
    # lower case, full-width digits, spaces, a long dash
    fullwidth = refs[0].lower().translate(str.maketrans("0123456789-", "０１２３４５６７８９ー"))
    response = client.post(COUNTER, form_data(r2.email, " " + fullwidth + " "))
    assert response.status_code == 200
    assert "already used" in response.content.decode()
    assert list(ConsentEvent.objects.values_list("subject_pseudonym", flat=True)) == [r1.pseudonym]


def test_a_voided_reference_cannot_be_used_and_its_reason_is_escaped(
    client, clerk, officer_batch
) -> None:
    batch, refs = officer_batch
    paper_form_void(officer=batch.issued_by, reference=refs[2], reason="<script>alert(1)</script>")
    response = client.post(COUNTER, form_data(UserFactory.create().email, refs[2]))
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "voided" in html
    assert ConsentEvent.objects.count() == 0


def test_issued_to_is_escaped_on_the_register_pages(client) -> None:
    officer = with_totp(StaffFactory.create(roles=["consent_officer"]))
    log_in_with_mfa(client, officer)
    client.post(
        "/staff/consent/register/",
        {"action": "issue", "issue-size": 2, "issue-issued_to": "<img src=x onerror=alert(1)>"},
        follow=True,
    )
    batch = PaperForm.objects.get(serial=1).batch
    for url in ("/staff/consent/register/", f"/staff/consent/register/batches/{batch.number}/"):
        assert "<img src=x" not in client.get(url).content.decode()


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("{local}@example.jp ", id="trailing space"),
        pytest.param("{LOCAL}@EXAMPLE.JP", id="upper case"),
    ],
)
def test_ascii_case_and_spaces_find_the_same_resident(client, clerk, officer_batch, typed):
    _batch, refs = officer_batch
    resident = UserFactory.create()
    local = resident.email.split("@")[0]
    client.post(COUNTER, form_data(typed.format(local=local, LOCAL=local.upper()), refs[0]))
    assert [e.subject_pseudonym for e in ConsentEvent.objects.all()] == [resident.pseudonym]


def test_a_unicode_lookalike_domain_does_not_match_another_account(
    client, clerk, officer_batch
) -> None:
    """U+0131 (dotless i) upper-cases to "I": on PostgreSQL, email__iexact (UPPER = UPPER)
    matches resident@mitaka.example.jp for an address the resident never wrote."""
    _batch, refs = officer_batch
    resident = UserFactory.create(email="resident@mitaka.example.jp")
    EmailAddress.objects.filter(user=resident).update(email="resident@mitaka.example.jp")
    response = client.post(COUNTER, form_data("resident@m\u0131taka.example.jp", refs[0]))
    assert response.status_code == 302, connection.vendor
    assert ConsentEvent.objects.count() == 0, connection.vendor


def test_a_resident_cannot_dispute_another_residents_form_nor_see_it(client, officer_batch):
    _batch, refs = officer_batch
    clerk = with_totp(StaffFactory.create(roles=["counter_clerk"]))
    log_in_with_mfa(client, clerk)
    victim, attacker = UserFactory.create(), UserFactory.create()
    client.post(COUNTER, form_data(victim.email, refs[0]))
    client.logout()
    client.force_login(attacker)
    url = f"/consent/paper-forms/{refs[0]}/dispute/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "not me"}).status_code == 404
    assert policy.allowed_categories(resident_id=victim.pk, purpose="disaster_warnings") == {
        "places"
    }


def test_a_dispute_needs_a_csrf_token(officer_batch) -> None:
    _batch, refs = officer_batch
    staff_client = Client()
    log_in_with_mfa(staff_client, with_totp(StaffFactory.create(roles=["counter_clerk"])))
    resident = UserFactory.create()
    staff_client.post(COUNTER, form_data(resident.email, refs[0]))
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(resident)
    response = csrf_client.post(f"/consent/paper-forms/{refs[0]}/dispute/", {"reason": "x"})
    assert response.status_code == 403
    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == {
        "places"
    }


def test_the_register_needs_mfa_in_this_session(client) -> None:
    officer = with_totp(StaffFactory.create(roles=["consent_officer"]))
    client.force_login(officer)  # a password-only session: no "mfa" record
    for response in (
        client.get("/staff/consent/register/"),
        client.post(
            "/staff/consent/register/", {"action": "issue", "issue-size": 5, "issue-issued_to": "x"}
        ),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/2fa/reauthenticate/")
    assert PaperForm.objects.count() == 0


def test_a_dispute_withdraws_only_what_the_form_granted(client, officer_batch) -> None:
    _batch, refs = officer_batch
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "location")
    staff_client = Client()
    log_in_with_mfa(staff_client, with_totp(StaffFactory.create(roles=["counter_clerk"])))
    staff_client.post(COUNTER, form_data(resident.email, refs[0]))
    client.force_login(resident)
    client.post(f"/consent/paper-forms/{refs[0]}/dispute/", {"reason": "not me"})
    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == {
        "location"
    }
    assert PaperForm.objects.get(reference=refs[0]).status == PaperFormStatus.USED


def test_a_dispute_reason_is_escaped_on_the_register_page(client, officer_batch) -> None:
    _batch, refs = officer_batch
    resident = UserFactory.create()
    staff_client = Client()
    log_in_with_mfa(staff_client, with_totp(StaffFactory.create(roles=["counter_clerk"])))
    staff_client.post(COUNTER, form_data(resident.email, refs[0]))
    resident_client = Client()
    resident_client.force_login(resident)
    resident_client.post(
        f"/consent/paper-forms/{refs[0]}/dispute/", {"reason": "<script>alert(1)</script>"}
    )
    officer = with_totp(StaffFactory.create(roles=["consent_officer"]))
    log_in_with_mfa(client, officer)
    html = client.get("/staff/consent/register/").content.decode()
    assert refs[0] in html
    assert "<script>alert(1)</script>" not in html


def test_the_counter_page_answers_alike_for_known_and_unknown_addresses(
    client, clerk, officer_batch
) -> None:
    _batch, refs = officer_batch
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "location")
    answers = []
    for email, ref, action in (
        (resident.email, refs[0], "grant"),
        ("nobody@example.jp", refs[1], "grant"),
        (resident.email, refs[2], "withdraw"),
        ("nobody@example.jp", refs[3], "withdraw"),
    ):
        response = client.post(COUNTER, form_data(email, ref, action=action), follow=True)
        html = response.content.decode().replace(ref, "REF")
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)
        html = re.sub(r'"X-CSRFToken": "[^"]+"', "CSRF", html)
        answers.append((response.redirect_chain, html))
    import difflib  # noqa: PLC0415

    for a, b in ((0, 1), (2, 3)):
        diff = list(
            difflib.unified_diff(
                answers[a][1].splitlines(), answers[b][1].splitlines(), lineterm="", n=0
            )
        )
        assert answers[a][0] == answers[b][0]
        assert diff == [], "\n".join(diff)


# ---------------------------------------------------------------------------------------------
# A rogue clerk destroying what the resident gave online
# ---------------------------------------------------------------------------------------------


def _clerk_client() -> Client:
    staff_client = Client()
    log_in_with_mfa(staff_client, with_totp(StaffFactory.create(roles=["counter_clerk"])))
    return staff_client


def test_disputing_a_forged_regrant_keeps_the_consent_the_resident_gave_online(
    client, officer_batch
) -> None:
    """The resident shared places online. A clerk records a paper "grant" of the same category
    (nothing changes for the resident, so it looks harmless); the resident, emailed, disputes
    the form they never signed. The dispute withdraws every state whose newest event is the
    form's, which is now also the resident's own online consent: it is withdrawn and the places
    are erased. README: "consents the resident gave online stay"."""
    from portal.residents import services as profile_services  # noqa: PLC0415
    from tests.factories import DistrictFactory  # noqa: PLC0415

    _batch, refs = officer_batch
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places")  # online, by the resident
    profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=DistrictFactory.create().code
    )
    assert policy.read_own_data(resident_id=resident.pk).places
    _clerk_client().post(COUNTER, form_data(resident.email, refs[0]))  # the forged re-grant

    client.force_login(resident)
    client.post(f"/consent/paper-forms/{refs[0]}/dispute/", {"reason": "I never signed this"})

    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == {
        "places"
    }


def test_a_disputed_counter_withdrawal_does_not_leave_the_residents_data_erased(
    client, officer_batch
) -> None:
    """A clerk records a paper "withdrawal" nobody signed: the consent ends and the resident's
    places are erased in the same transaction, before the resident is even emailed. Disputing
    it "grants nothing": the data is gone for good. Secure: a disputed counter withdrawal is
    undone (the consent restored), and erasure caused by a counter withdrawal waits until the
    dispute window has passed (processing stops at once; deletion later)."""
    from portal.residents import services as profile_services  # noqa: PLC0415
    from tests.factories import DistrictFactory  # noqa: PLC0415

    _batch, refs = officer_batch
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places")
    profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code=DistrictFactory.create().code
    )
    assert policy.read_own_data(resident_id=resident.pk).places
    _clerk_client().post(COUNTER, form_data(resident.email, refs[0], action="withdraw"))

    client.force_login(resident)
    client.post(f"/consent/paper-forms/{refs[0]}/dispute/", {"reason": "I never signed this"})

    assert policy.read_own_data(resident_id=resident.pk).places  # not erased


def test_the_batch_page_still_says_who_used_a_form_after_the_clerk_account_is_deleted(
    client, officer_batch
) -> None:
    """PaperForm.used_by is SET_NULL: once the clerk's account is deleted the register's batch
    page shows nobody, although the audit log keeps the email (README: the batch page shows
    "who used which when")."""
    batch, refs = officer_batch
    clerk = with_totp(StaffFactory.create(roles=["counter_clerk"]))
    clerk_client = Client()
    log_in_with_mfa(clerk_client, clerk)
    clerk_client.post(COUNTER, form_data(UserFactory.create().email, refs[0]))
    email = clerk.email
    clerk.delete()

    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["consent_officer"])))
    html = client.get(f"/staff/consent/register/batches/{batch.number}/").content.decode()
    assert email in _row_of(html, refs[0])


@pytest.mark.parametrize(
    "email",
    ["a@example.jp\r\nBcc: victim@example.jp", "a@example.jp, victim@example.jp", "a@example.jp>"],
)
def test_an_address_cannot_smuggle_headers_or_more_recipients(
    client, clerk, officer_batch, email
) -> None:
    _batch, refs = officer_batch
    response = client.post(COUNTER, form_data(email, refs[0]))
    assert response.status_code == 200
    assert PaperForm.objects.get(reference=refs[0]).status == PaperFormStatus.ISSUED
