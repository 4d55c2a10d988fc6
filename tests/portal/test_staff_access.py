"""Staff pages and the admin need a staff role and two-factor authentication."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.factories import StaffFactory, UserFactory
from tests.helpers import with_totp

pytestmark = pytest.mark.django_db


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


def test_staff_with_totp_and_a_role_reaches_the_staff_console(client) -> None:
    client.force_login(with_totp(StaffFactory.create(roles=["consent_officer"])))
    response = client.get("/staff/")
    assert response.status_code == 200
    assert "consent_officer" not in response.content.decode()  # the label, not the code


def test_superuser_with_totp_reaches_the_admin(client) -> None:
    client.force_login(with_totp(StaffFactory.create(is_superuser=True)))
    assert client.get("/admin/").status_code == 200


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

    from tests.factories import DEFAULT_PASSWORD

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
