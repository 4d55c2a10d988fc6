"""Staff pages and the admin need a staff role and a session that passed two-factor
authentication (portal.staff.gate). tests/security/test_staff_sweep.py checks every staff URL;
this module specifies the gate's steps on the console and the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory
from tests.helpers import (
    authentication_methods,
    clock_stopped,
    log_in_with_mfa,
    totp_code,
    with_totp,
)

pytestmark = pytest.mark.django_db

MFA_FOR_THE_CONSOLE = "/accounts/2fa/reauthenticate/?next=%2Fstaff%2F"


def test_anonymous_visitor_is_sent_to_log_in_for_the_staff_console(client) -> None:
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_resident_is_refused_the_staff_console(client) -> None:
    client.force_login(UserFactory.create())
    assert client.get("/staff/").status_code == 403


def test_staff_without_mfa_is_sent_to_set_up_totp_before_the_staff_console(client) -> None:
    client.force_login(StaffFactory.create(roles=["publisher"]))
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_staff_without_mfa_is_sent_to_set_up_totp_before_the_admin(client) -> None:
    client.force_login(StaffFactory.create(is_superuser=True))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_staff_with_a_role_whose_login_passed_the_2fa_step_reaches_the_staff_console(
    client,
) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["consent_officer"])))
    response = client.get("/staff/")
    assert response.status_code == 200
    assert "consent_officer" not in response.content.decode()  # the label, not the code


def test_superuser_whose_login_passed_the_2fa_step_reaches_the_admin(client) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create(is_superuser=True)))
    assert client.get("/admin/").status_code == 200


def test_staff_with_totp_whose_session_skipped_the_second_factor_is_asked_for_a_code(
    client,
) -> None:
    client.force_login(with_totp(StaffFactory.create(roles=["publisher"])))
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"] == MFA_FOR_THE_CONSOLE


def test_superuser_with_totp_whose_session_skipped_the_second_factor_is_asked_for_a_code(
    client,
) -> None:
    client.force_login(with_totp(StaffFactory.create(is_superuser=True)))
    response = client.get("/admin/portal/user/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/reauthenticate/?next=%2Fadmin%2Fportal%2Fuser%2F"


def test_a_code_at_mfa_reauthentication_opens_the_staff_page_and_returns_to_it(client) -> None:
    client.force_login(with_totp(StaffFactory.create(roles=["publisher"])))
    assert client.get("/staff/")["Location"] == MFA_FOR_THE_CONSOLE

    with clock_stopped():
        response = client.post(MFA_FOR_THE_CONSOLE, {"code": totp_code()})

    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_a_password_reauthentication_is_no_second_factor(client) -> None:
    client.force_login(with_totp(StaffFactory.create(roles=["publisher"])))
    client.post("/accounts/reauthenticate/", {"password": DEFAULT_PASSWORD})
    assert "password" in authentication_methods(client)

    response = client.get("/staff/")

    assert response["Location"] == MFA_FOR_THE_CONSOLE


def test_staff_are_asked_for_the_second_factor_before_being_told_a_page_is_not_theirs(
    client,
) -> None:
    client.force_login(with_totp(StaffFactory.create(roles=["publisher"])))
    response = client.get("/staff/consent/counter/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/")


def test_staff_without_the_consoles_permission_are_refused_it_after_the_second_factor(
    client,
) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create()))
    assert client.get("/staff/").status_code == 403


def test_a_role_without_the_staff_flag_is_refused_the_admin(client) -> None:
    clerk = with_totp(UserFactory.create())
    clerk.groups.add(Group.objects.get(name="counter_clerk"))
    log_in_with_mfa(client, clerk)
    assert client.get("/admin/").status_code == 403
    assert client.get("/staff/").status_code == 200


def test_resident_is_refused_the_admin(client) -> None:
    client.force_login(UserFactory.create())
    assert client.get("/admin/").status_code == 403


def test_anonymous_visitor_is_sent_to_allauths_login_for_the_admin(client) -> None:
    response = client.get("/admin/portal/user/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/portal/user/"


def test_admin_login_page_is_allauths_login_not_djangos(client) -> None:
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_every_role_group_exists_after_migrate() -> None:
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {
        "publisher",
        "approver",
        "consent_officer",
    }


def test_a_recovery_code_completes_a_two_factor_login_once(client) -> None:
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    user = with_totp(StaffFactory.create())
    code = RecoveryCodes.activate(user).get_unused_codes()[0]

    response = client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert client.session["_auth_user_id"] == str(user.pk)

    client.logout()
    client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert "_auth_user_id" not in client.session


def test_a_role_without_the_staff_flag_still_needs_mfa_for_staff_pages(client) -> None:
    clerk = UserFactory.create()
    clerk.groups.add(Group.objects.get(name="counter_clerk"))
    client.force_login(clerk)
    for path in ("/staff/", "/staff/consent/counter/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_a_login_whose_second_factor_was_a_recovery_code_opens_staff_pages(client) -> None:
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    user = with_totp(StaffFactory.create(roles=["publisher"]))
    code = RecoveryCodes.activate(user).get_unused_codes()[0]
    client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": code})

    assert client.get("/staff/").status_code == 200
