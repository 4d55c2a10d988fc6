"""City staff publish new terms in the admin; the ledger there is read-only."""

from __future__ import annotations

import pytest

from consent.models import ConsentTerms
from tests.factories import StaffFactory, UserFactory
from tests.helpers import grant, log_in_with_mfa, terms_of, with_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    log_in_with_mfa(client, with_totp(StaffFactory.create(is_superuser=True)))
    client.cookies["django_language"] = "en"
    return client


def publish_form(**overrides):
    old = terms_of("school_letters")
    data = {
        "purpose": old.purpose_id,
        "category_codes": old.category_codes,
        "recipient_codes": old.recipient_codes,
        "text_ja": old.text_ja,
        "text_en": old.text_en,
        "retention_days": old.retention_days,
        "valid_days": old.valid_days,
        "withdrawal_method_ja": old.withdrawal_method_ja,
        "withdrawal_method_en": old.withdrawal_method_en,
        "requires_reconsent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_adding_terms_in_the_admin_publishes_the_next_version(admin_client) -> None:
    response = admin_client.post(
        "/admin/consent/consentterms/add/", publish_form(text_en="Letters, now also by post.")
    )
    assert response.status_code == 302
    newest = terms_of("school_letters")
    assert newest.version == 2
    assert newest.text_en == "Letters, now also by post."
    assert len(newest.content_hash) == 64


def test_an_editorial_version_that_changes_the_categories_is_refused_in_the_admin(
    admin_client,
) -> None:
    form = publish_form(category_codes=["household", "age"])
    del form["requires_reconsent"]
    response = admin_client.post("/admin/consent/consentterms/add/", form)
    assert response.status_code == 200
    assert "material change" in response.content.decode()
    assert terms_of("school_letters").version == 1


def test_published_terms_cannot_be_edited_in_the_admin(admin_client) -> None:
    terms = terms_of("school_letters")
    response = admin_client.post(
        f"/admin/consent/consentterms/{terms.pk}/change/", publish_form(text_en="changed")
    )
    assert response.status_code == 403
    assert ConsentTerms.objects.get(pk=terms.pk).text_en != "changed"


def test_the_ledger_is_read_only_in_the_admin(admin_client) -> None:
    event = grant(UserFactory.create(), "school_letters", "household")
    assert admin_client.get("/admin/consent/consentevent/").status_code == 200
    assert (
        admin_client.post(
            f"/admin/consent/consentevent/{event.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert admin_client.get("/admin/consent/consentevent/add/").status_code == 403


def test_the_admin_does_not_show_authenticator_secrets(admin_client) -> None:
    assert admin_client.get("/admin/mfa/authenticator/").status_code == 404


def test_areas_schools_and_interests_cannot_be_deleted_in_the_admin(admin_client) -> None:
    from portal.models import InterestTag
    from tests.factories import DistrictFactory, SchoolFactory

    district, school = DistrictFactory.create(), SchoolFactory.create()
    tag = InterestTag.objects.first()
    assert tag is not None
    for path in (
        f"/admin/portal/area/{district.pk}/delete/",
        f"/admin/portal/school/{school.pk}/delete/",
        f"/admin/portal/interesttag/{tag.pk}/delete/",
    ):
        assert admin_client.get(path).status_code == 403, path


def test_deleting_a_user_in_the_admin_withdraws_their_consents_in_the_ledger(admin_client) -> None:
    from consent.models import ConsentEvent

    resident = UserFactory.create()
    grant(resident, "school_letters", "household")
    response = admin_client.post(f"/admin/portal/user/{resident.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    withdrawal = ConsentEvent.objects.get(subject_pseudonym=resident.pseudonym, kind="withdraw")
    assert withdrawal.actor_kind == "staff"
