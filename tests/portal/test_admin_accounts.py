"""The admin's pages for accounts show and log no more of a resident than the account itself:
no consented data outside the gate, no password set by staff, no email left in the admin log."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.test import Client, RequestFactory

from portal.models import StaffAuditEntry, User
from portal.residents import services as profile_services
from tests.factories import (
    DEFAULT_PASSWORD,
    DistrictFactory,
    SchoolFactory,
    StaffFactory,
    UserFactory,
)
from tests.helpers import grant, log_in_with_mfa, with_totp

pytestmark = pytest.mark.django_db

RESIDENT_EMAIL = "hanako@example.jp"
# What the delete page listed before: the resident's consented data, by model and by name.
CONSENTED_DATA_TEXT = (
    "Place",
    "place #",
    "Child",
    "child #",
    "Resident profile",
    "profile #",
    "interest",
    "Consent state",
    "granted #",
    "鶴ヶ城地区",
    "鶴城小学校",
)


@pytest.fixture
def superuser(client: Client) -> User:
    user = with_totp(StaffFactory.create(is_superuser=True))
    log_in_with_mfa(client, user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


@pytest.fixture
def resident() -> User:
    user = UserFactory.create(email=RESIDENT_EMAIL)
    grant(user, "personalised_home", "age", "places", "interests")
    grant(user, "school_letters", "household")
    profile_services.profile_set_birth_year(resident_id=user.pk, birth_year=1979)
    district = DistrictFactory.create(name_ja="鶴ヶ城地区", name_en="Tsurugajo")
    profile_services.place_add(resident_id=user.pk, kind="home", area_code=district.code)
    school = SchoolFactory.create(name_ja="鶴城小学校")
    profile_services.child_add(resident_id=user.pk, school_code=school.code, grade=4)
    profile_services.profile_set_interests(resident_id=user.pk, interest_codes=["events"])
    return user


def _confirmation(html: str) -> str:
    """The page's own content, without the admin's navigation (which lists every model)."""
    return html[html.index('id="content"') : html.index("</main>")]


def _user_log_entries() -> list[LogEntry]:
    return list(LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User)))


# ---------------------------------------------------------------------------------------------
# Finding 6: the delete confirmation lists nothing of the resident's consented data
# ---------------------------------------------------------------------------------------------


def test_the_delete_page_lists_no_consented_data_of_the_resident(client, superuser, resident):
    html = _confirmation(client.get(f"/admin/portal/user/{resident.pk}/delete/").content.decode())
    assert RESIDENT_EMAIL in html  # the account itself
    for text in CONSENTED_DATA_TEXT:
        assert text not in html, text


def test_the_delete_page_says_consented_data_is_erased_and_withdrawals_recorded(
    client, superuser, resident
):
    html = client.get(f"/admin/portal/user/{resident.pk}/delete/").content.decode()
    assert "withdrawn in the consent ledger" in html


def test_the_bulk_delete_confirmation_lists_no_consented_data_of_the_resident(
    client, superuser, resident
):
    response = client.post(
        "/admin/portal/user/",
        {"action": "delete_selected", "_selected_action": [resident.pk]},
    )
    html = _confirmation(response.content.decode())
    assert RESIDENT_EMAIL in html
    for text in CONSENTED_DATA_TEXT:
        assert text not in html, text


def test_deleting_a_resident_in_the_admin_still_erases_the_account(client, superuser, resident):
    client.post(f"/admin/portal/user/{resident.pk}/delete/", {"post": "yes"})
    assert not User.objects.filter(pk=resident.pk).exists()


# ---------------------------------------------------------------------------------------------
# Finding 9: the admin log keeps no deleted resident's email
# ---------------------------------------------------------------------------------------------


def test_the_admin_log_of_a_deletion_names_the_resident_by_pseudonym_not_email(
    client, superuser, resident
):
    client.post(f"/admin/portal/user/{resident.pk}/delete/", {"post": "yes"})
    [entry] = _user_log_entries()
    assert entry.is_deletion()
    assert RESIDENT_EMAIL not in entry.object_repr
    assert str(resident.pseudonym) in entry.object_repr


def test_a_bulk_deletion_leaves_no_email_in_the_admin_log(client, superuser, resident):
    client.post(
        "/admin/portal/user/",
        {"action": "delete_selected", "_selected_action": [resident.pk], "post": "yes"},
    )
    assert not User.objects.filter(pk=resident.pk).exists()
    assert _user_log_entries()
    assert all(RESIDENT_EMAIL not in entry.object_repr for entry in _user_log_entries())


def test_deleting_a_resident_removes_the_email_from_earlier_admin_log_entries(
    client, superuser, resident
):
    LogEntry.objects.log_actions(user_id=superuser.pk, queryset=[resident], action_flag=CHANGE)
    client.post(f"/admin/portal/user/{resident.pk}/delete/", {"post": "yes"})
    assert len(_user_log_entries()) == 2
    assert all(RESIDENT_EMAIL not in entry.object_repr for entry in _user_log_entries())


def test_admin_log_entries_of_a_change_name_the_account_by_pseudonym(superuser, resident):
    request = RequestFactory().post("/admin/portal/user/")
    request.user = superuser
    entry = admin.site.get_model_admin(User).log_change(request, resident, "changed")
    assert entry.object_repr == f"user {resident.pseudonym}"


def test_a_deletion_in_the_admin_is_in_the_staff_audit_log_by_pseudonym(
    client, superuser, resident
):
    client.post(f"/admin/portal/user/{resident.pk}/delete/", {"post": "yes"})
    entry = StaffAuditEntry.objects.get(action="account.delete")
    assert entry.actor == superuser
    assert entry.subject_pseudonym == resident.pseudonym
    assert RESIDENT_EMAIL not in str(entry.detail)


# ---------------------------------------------------------------------------------------------
# Finding 7: staff cannot set a resident's password; they can send allauth's reset email
# ---------------------------------------------------------------------------------------------


def test_the_admin_refuses_to_show_the_set_password_form(client, superuser, resident):
    response = client.get(f"/admin/portal/user/{resident.pk}/password/")
    assert response.status_code == 403


def test_a_password_posted_to_the_admin_is_refused_and_not_set(client, superuser, resident):
    response = client.post(
        f"/admin/portal/user/{resident.pk}/password/",
        {"password1": "staff-chose-this-1", "password2": "staff-chose-this-1"},
    )
    assert response.status_code == 403
    resident.refresh_from_db()
    assert resident.check_password(DEFAULT_PASSWORD)


def test_the_change_page_offers_no_password_form_and_no_email_edit(client, superuser, resident):
    html = client.get(f"/admin/portal/user/{resident.pk}/change/").content.decode()
    assert "../password/" not in html
    assert 'name="email"' not in html


def test_the_reset_action_sends_allauths_reset_link_to_the_resident(client, superuser, resident):
    client.post(
        "/admin/portal/user/",
        {"action": "send_password_reset", "_selected_action": [resident.pk]},
    )
    reset = [message for message in mail.outbox if "/accounts/password/reset/key/" in message.body]
    assert len(reset) == 1
    assert reset[0].to == [RESIDENT_EMAIL]


def test_the_reset_action_tells_the_resident_that_staff_sent_it(client, superuser, resident):
    client.post(
        "/admin/portal/user/",
        {"action": "send_password_reset", "_selected_action": [resident.pk]},
    )
    notices = [message for message in mail.outbox if "city staff" in message.body]
    assert [notice.to for notice in notices] == [[RESIDENT_EMAIL]]


def test_the_reset_action_is_in_the_staff_audit_log_by_pseudonym(client, superuser, resident):
    client.post(
        "/admin/portal/user/",
        {"action": "send_password_reset", "_selected_action": [resident.pk]},
    )
    entry = StaffAuditEntry.objects.get(action="account.password_reset_sent")
    assert entry.actor == superuser
    assert entry.subject_pseudonym == resident.pseudonym
    assert RESIDENT_EMAIL not in str(entry.detail)


def test_the_reset_action_changes_no_password(client, superuser, resident):
    client.post(
        "/admin/portal/user/",
        {"action": "send_password_reset", "_selected_action": [resident.pk]},
    )
    resident.refresh_from_db()
    assert resident.check_password(DEFAULT_PASSWORD)


def test_an_account_created_in_the_admin_with_a_password_is_in_the_staff_audit_log(
    client, superuser
):
    response = client.post(
        "/admin/portal/user/add/",
        {
            "email": "new-staff@city.example.jp",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(email="new-staff@city.example.jp")
    entry = StaffAuditEntry.objects.get(action="account.create")
    assert entry.actor == superuser
    assert entry.subject_pseudonym == created.pseudonym
