"""Deleting an account: re-authenticate, confirm, and everything personal is gone; the consent
ledger keeps only pseudonymous events and still verifies."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.test import Client

from consent.models import ConsentEvent, ConsentState, DataUseEvent, EventKind
from consent.policy import Reader, read_profile
from portal.models import ResidentChild, ResidentPlace, ResidentProfile, User
from portal.residents import services as profile_services
from tests.factories import DEFAULT_PASSWORD, DistrictFactory, SchoolFactory, UserFactory
from tests.helpers import grant

pytestmark = pytest.mark.django_db


def log_in_long_ago(client, user: User) -> None:
    """A real password login, made to look old so a sensitive action asks for the password."""
    client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    session = client.session
    for record in session.get("account_authentication_methods", []):
        record["at"] = 0
    session.save()


def reauthenticate(client, url: str = "/accounts/reauthenticate/"):
    return client.post(url, {"password": DEFAULT_PASSWORD})


@pytest.fixture
def resident(client) -> User:
    user = UserFactory.create(email="taro@example.jp")
    grant(user, "personalised_home", "age", "places", "interests")
    grant(user, "school_letters", "household")
    profile_services.profile_set_birth_year(resident_id=user.pk, birth_year=1979)
    profile_services.place_add(
        resident_id=user.pk, kind="home", area_code=DistrictFactory.create().code
    )
    profile_services.child_add(
        resident_id=user.pk, school_code=SchoolFactory.create().code, grade=4
    )
    profile_services.profile_set_interests(resident_id=user.pk, interest_codes=["events"])
    read_profile(
        resident_id=user.pk,
        purpose="personalised_home",
        reader=Reader(kind="task", name="t", recipient="city"),
        categories=["age", "places", "interests"],
    )
    log_in_long_ago(client, user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def test_the_deletion_page_needs_a_login() -> None:
    response = Client().get("/me/delete/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_deletion_page_asks_for_the_password_again_after_an_old_login(client, resident) -> None:
    response = client.get("/me/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/reauthenticate/?next=%2Fme%2Fdelete%2F"


def test_a_deletion_posted_without_recent_reauthentication_deletes_nothing(
    client, resident
) -> None:
    response = client.post("/me/delete/", {"email": resident.email})
    assert response.status_code == 302
    assert "/accounts/reauthenticate/" in response["Location"]
    assert User.objects.filter(pk=resident.pk).exists()


def test_the_confirmation_page_says_what_will_happen(client, resident) -> None:
    reauthenticate(client)
    response = client.get("/me/delete/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your 4 active consents are withdrawn." in html
    assert "This cannot be undone." in html
    assert 'href="/me/data.json"' in html


def test_a_mistyped_email_address_deletes_nothing(client, resident) -> None:
    reauthenticate(client)
    response = client.post("/me/delete/", {"email": "someone@example.jp"})
    assert response.status_code == 400
    assert 'id="id_email_error"' in response.content.decode()
    assert User.objects.filter(pk=resident.pk).exists()


def test_deleting_the_account_logs_out_and_returns_home(client, resident) -> None:
    reauthenticate(client)
    response = client.post("/me/delete/", {"email": "TARO@example.jp"}, follow=True)
    assert response.redirect_chain[-1] == ("/", 302)
    assert "Your account is deleted" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_deleting_the_account_erases_the_account_and_all_its_data(client, resident) -> None:
    reauthenticate(client)
    client.post("/me/delete/", {"email": resident.email})

    assert not User.objects.filter(pk=resident.pk).exists()
    assert not EmailAddress.objects.filter(email=resident.email).exists()
    assert not ResidentProfile.objects.filter(resident_id=resident.pk).exists()
    assert not ResidentPlace.objects.filter(resident_id=resident.pk).exists()
    assert not ResidentChild.objects.filter(resident_id=resident.pk).exists()
    assert not ConsentState.objects.filter(resident_id=resident.pk).exists()
    assert not DataUseEvent.objects.filter(resident_id=resident.pk).exists()


def test_deletion_leaves_a_withdraw_event_for_each_active_consent(client, resident) -> None:
    reauthenticate(client)
    client.post("/me/delete/", {"email": resident.email})

    withdrawn = {
        (event.purpose_code, category)
        for event in ConsentEvent.objects.filter(
            subject_pseudonym=resident.pseudonym, kind=EventKind.WITHDRAW
        )
        for category in event.category_codes
    }
    assert withdrawn == {
        ("personalised_home", "age"),
        ("personalised_home", "places"),
        ("personalised_home", "interests"),
        ("school_letters", "household"),
    }


def test_the_ledger_still_verifies_after_deletion_and_names_no_email(
    client, resident, capsys
) -> None:
    reauthenticate(client)
    client.post("/me/delete/", {"email": resident.email})

    call_command("consent_verify_ledger")
    assert "4 events verified" in capsys.readouterr().out
    ledger = repr(list(ConsentEvent.objects.values()))
    assert "taro@example.jp" not in ledger


def test_reauthenticating_after_a_suspended_deletion_carries_it_out(client, resident) -> None:
    suspended = client.post("/me/delete/", {"email": resident.email})
    assert User.objects.filter(pk=resident.pk).exists()

    # The password form posts back to its own URL, which names the deletion page as "next".
    response = reauthenticate(client, suspended["Location"])

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not User.objects.filter(pk=resident.pk).exists()
    assert "_auth_user_id" not in client.session


def test_another_residents_account_is_untouched(client, resident) -> None:
    other = UserFactory.create()
    grant(other, "personalised_home", "places")
    reauthenticate(client)
    client.post("/me/delete/", {"email": resident.email})
    assert User.objects.filter(pk=other.pk).exists()
    assert ConsentState.objects.filter(resident_id=other.pk).count() == 1
