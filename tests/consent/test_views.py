"""The resident's consent pages: the opt-in after sign-up, the overview, a purpose's terms and
withdrawal, which needs what granting needs (a logged-in session), no password. Tested through
HTTP, in English."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.utils.html import escape

from consent import policy
from consent.models import ConsentEvent, DataCategory
from consent.services import terms_publish
from portal.residents import services as profile_services
from tests.factories import DEFAULT_PASSWORD, DistrictFactory, UserFactory
from tests.helpers import grant, publish_wording_change, terms_of

pytestmark = pytest.mark.django_db

STEP_ORDER = ["age", "places", "household", "interests", "language", "location", "interactions"]


@pytest.fixture(autouse=True)
def english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def resident(client):
    user = UserFactory.create()
    client.force_login(user)
    return user


def events_of(user) -> list[ConsentEvent]:
    return list(ConsentEvent.objects.filter(subject_pseudonym=user.pseudonym).order_by("id"))


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def step_terms(category: str) -> list[str]:
    """The terms ids a step shows: those of every purpose whose current terms cover it."""
    return [
        str(terms_of(p).pk)
        for p in ("personalised_home", "disaster_warnings", "school_letters", "planning_statistics")
        if category in terms_of(p).category_codes
    ]


def csrf_token_of(response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert match, "the page has no CSRF token"
    return match.group(1)


def log_in_long_ago(client, user) -> None:
    """Log in with the password, then pretend it happened long ago: longer than allauth's
    ACCOUNT_REAUTHENTICATION_TIMEOUT, so a page demanding re-authentication would ask for it."""
    token = csrf_token_of(client.get("/accounts/login/"))
    client.post(
        "/accounts/login/",
        {"login": user.email, "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert "_auth_user_id" in client.session, "the login failed"
    session = client.session
    for record in session.get("account_authentication_methods", []):
        record["at"] = 0
    session.save()


def stored_places(user) -> list[object]:
    own = policy.read_own_data(resident_id=user.pk)
    return list(own.places)


# -- the opt-in after sign-up ------------------------------------------------------------------


def test_setup_starts_at_the_first_category_in_catalogue_order(client, resident) -> None:
    response = client.get("/consent/setup/")
    first = DataCategory.objects.order_by("position").first()
    assert first is not None
    assert response.status_code == 302
    assert response["Location"] == f"/consent/setup/{first.code}/"


def test_wizard_step_shows_the_three_point_disclosure_with_nothing_pre_ticked(
    client, resident
) -> None:
    response = client.get("/consent/setup/places/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Step 2 of 7" in html
    # What is collected, for which purposes, for whom, for how long, how to withdraw.
    assert "where you live, work, study" in html
    assert "Personalised home page" in html
    assert "Disaster warnings for my areas" in html
    assert "Anonymous statistics for city planning" in html
    assert "School letters" not in html  # its terms do not cover places
    assert "The portal operator" in html
    assert "within 30 days at most" in html
    assert "Your consent lasts 730 days" in html
    assert "until you withdraw it" in html
    assert "with one click on the My data page" in html
    checkboxes = re.findall(r"<input[^>]*type=\"checkbox\"[^>]*>", html)
    assert len(checkboxes) == 3
    assert not any("checked" in box for box in checkboxes)


def test_saving_a_step_grants_ticked_and_refuses_unticked_purposes(client, resident) -> None:
    response = client.post(
        "/consent/setup/places/",
        {"purposes": ["disaster_warnings"], "terms": step_terms("places"), "action": "save"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/consent/setup/household/"
    decisions = {(e.kind, e.purpose_code, tuple(e.category_codes)) for e in events_of(resident)}
    assert decisions == {
        ("grant", "disaster_warnings", ("places",)),
        ("refuse", "personalised_home", ("places",)),
        ("refuse", "planning_statistics", ("places",)),
    }
    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == {
        "places"
    }


def test_skipping_a_step_records_nothing(client, resident) -> None:
    response = client.post(
        "/consent/setup/places/",
        {"purposes": ["disaster_warnings"], "terms": step_terms("places"), "action": "skip"},
    )
    assert response["Location"] == "/consent/setup/household/"
    assert events_of(resident) == []


def test_a_tampered_purpose_code_records_nothing_and_shows_an_error(client, resident) -> None:
    response = client.post(
        "/consent/setup/places/",
        {
            "purposes": ["disaster_warnings", "sell_to_advertisers"],
            "terms": step_terms("places"),
            "action": "save",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "is not one of the purposes offered in this step" in html
    assert events_of(resident) == []


def test_a_purpose_not_offered_for_this_category_records_nothing(client, resident) -> None:
    response = client.post(
        "/consent/setup/places/",
        {"purposes": ["school_letters"], "terms": step_terms("places"), "action": "save"},
    )
    assert response.status_code == 200
    assert "is not one of the purposes offered" in response.content.decode()
    assert events_of(resident) == []


def test_terms_published_while_reading_a_step_record_nothing(client, resident) -> None:
    shown = step_terms("places")
    publish_wording_change("disaster_warnings")
    response = client.post(
        "/consent/setup/places/",
        {"purposes": ["disaster_warnings"], "terms": shown, "action": "save"},
    )
    assert response.status_code == 200
    assert "These terms have changed" in response.content.decode()
    assert events_of(resident) == []


def test_an_unknown_category_step_is_not_found(client, resident) -> None:
    assert client.get("/consent/setup/shoe_size/").status_code == 404


def test_the_last_step_leads_to_the_finish_page(client, resident) -> None:
    response = client.post(
        "/consent/setup/interactions/",
        {"purposes": ["personalised_home"], "terms": step_terms("interactions"), "action": "save"},
    )
    assert STEP_ORDER[-1] == "interactions"
    assert response["Location"] == "/consent/setup/done/"


def test_finish_page_says_what_was_shared_and_links_to_the_profile(client, resident) -> None:
    grant(resident, "personalised_home", "interests")
    html = client.get("/consent/setup/done/").content.decode()
    assert "Personalised home page" in html
    assert "Interests" in html
    assert 'href="/me/profile/"' in html


def test_finish_page_after_skipping_everything_says_nothing_was_shared(client, resident) -> None:
    html = client.get("/consent/setup/done/").content.decode()
    assert "You have not shared anything." in html


def test_a_step_does_not_ask_again_for_purposes_already_using_the_category(
    client, resident
) -> None:
    grant(resident, "personalised_home", "places")
    html = client.get("/consent/setup/places/").content.decode()
    assert 'value="personalised_home"' not in html
    assert "Already shared" in html

    client.post(
        "/consent/setup/places/",
        {"purposes": [], "terms": step_terms("places")[1:], "action": "save"},
    )
    assert policy.allowed_categories(resident_id=resident.pk, purpose="personalised_home") == {
        "places"
    }


def refuse_everything_at(client, category: str):
    return client.post(
        f"/consent/setup/{category}/",
        {"purposes": [], "terms": step_terms(category), "action": "save"},
    )


def test_refusing_the_same_step_twice_records_each_refusal_once(client, resident) -> None:
    refuse_everything_at(client, "interests")
    refuse_everything_at(client, "interests")

    refusals = [(e.kind, e.purpose_code) for e in events_of(resident)]
    assert sorted(refusals) == [
        ("refuse", "personalised_home"),
        ("refuse", "planning_statistics"),
    ]


def test_a_resident_who_said_no_in_the_wizard_can_grant_from_the_consent_overview(
    client, resident
) -> None:
    refuse_everything_at(client, "interests")
    html = client.get("/consent/").content.decode()
    assert "not shared (you said no)" in html
    assert 'href="/consent/purposes/personalised_home/"' in html

    response = client.post(
        "/consent/purposes/personalised_home/",
        {"categories": ["interests"], "terms": terms_of("personalised_home").pk},
    )

    assert response["Location"] == "/consent/"
    assert policy.allowed_categories(resident_id=resident.pk, purpose="personalised_home") == {
        "interests"
    }


def test_a_resident_who_said_no_in_the_wizard_is_asked_again_when_going_through_it_again(
    client, resident
) -> None:
    refuse_everything_at(client, "interests")
    html = client.get("/consent/setup/interests/").content.decode()
    assert 'value="personalised_home"' in html
    assert not re.findall(r"<input[^>]*checked[^>]*>", html)


# -- the overview ------------------------------------------------------------------------------


def test_overview_shows_each_purposes_categories_with_their_state(client, resident) -> None:
    grant(resident, "personalised_home", "interests")
    html = client.get("/consent/").content.decode()
    assert "Personalised home page" in html
    assert "shared" in html
    assert "never asked" in html
    assert "Review and choose" in html
    assert 'href="/consent/purposes/personalised_home/withdraw/"' in html
    assert 'href="/consent/categories/interests/withdraw/"' in html


def test_overview_lists_the_consent_history_with_receipt_links(client, resident) -> None:
    event = grant(resident, "disaster_warnings", "places")
    html = client.get("/consent/").content.decode()
    assert "Consent history" in html
    assert f'href="/consent/receipts/{event.public_id}/"' in html


def test_overview_explains_a_terms_change_that_needs_reconsent(client, resident) -> None:
    grant(resident, "personalised_home", "interests")
    old = terms_of("personalised_home")
    terms_publish(
        purpose_code="personalised_home",
        category_codes=old.category_codes,
        recipient_codes=[*old.recipient_codes, "board_of_education"],
        text_ja=old.text_ja,
        text_en=old.text_en,
        retention_days=old.retention_days,
        valid_days=old.valid_days,
        withdrawal_method_ja=old.withdrawal_method_ja,
        withdrawal_method_en=old.withdrawal_method_en,
    )
    html = client.get("/consent/").content.decode()
    assert "needs your agreement again" in html
    assert re.search(
        r"The terms for “Personalised home page” changed on .+: until you agree again, "
        r"“Personalised home page” does not use your “Interests”",
        html,
    )
    assert 'href="/consent/purposes/personalised_home/"' in html


# -- one purpose's page ------------------------------------------------------------------------


def test_purpose_page_shows_the_full_terms(client, resident) -> None:
    terms = terms_of("school_letters")
    html = client.get("/consent/purposes/school_letters/").content.decode()
    assert escape(terms.text_en) in html
    assert "The board of education" in html
    assert "third party" in html
    assert "Your consent lasts 365 days" in html
    assert terms.content_hash in html
    assert "Household" in html


def test_purpose_page_pre_ticks_only_categories_already_granted(client, resident) -> None:
    grant(resident, "personalised_home", "interests")
    html = client.get("/consent/purposes/personalised_home/").content.decode()
    ticked = re.findall(r"<input[^>]*checked[^>]*>", html)
    assert len(ticked) == 1
    assert 'value="interests"' in ticked[0]


def test_purpose_page_grants_the_ticked_categories(client, resident) -> None:
    terms = terms_of("personalised_home")
    response = client.post(
        "/consent/purposes/personalised_home/",
        {"categories": ["age", "interests"], "terms": terms.pk},
    )
    assert response.status_code == 302
    assert policy.allowed_categories(resident_id=resident.pk, purpose="personalised_home") == {
        "age",
        "interests",
    }
    assert [(e.kind, e.category_codes) for e in events_of(resident)] == [
        ("grant", ["age", "interests"])
    ]


def test_purpose_page_withdraws_unticked_categories_without_asking_for_a_password(client) -> None:
    user = UserFactory.create()
    log_in_long_ago(client, user)
    grant(user, "personalised_home", "age", "interests")
    terms = terms_of("personalised_home")

    response = client.post(
        "/consent/purposes/personalised_home/",
        {"categories": ["age"], "terms": terms.pk},
        follow=True,
    )

    assert response.redirect_chain == [("/consent/", 302)]
    assert policy.allowed_categories(resident_id=user.pk, purpose="personalised_home") == {"age"}
    assert any("no longer uses your “Interests”" in m for m in messages_of(response))


def test_purpose_page_with_a_tampered_category_records_nothing(client, resident) -> None:
    terms = terms_of("school_letters")
    response = client.post(
        "/consent/purposes/school_letters/", {"categories": ["places"], "terms": terms.pk}
    )
    assert response.status_code == 200
    assert "is not a data category these terms cover" in response.content.decode()
    assert events_of(resident) == []


def test_purpose_page_gives_reconsent_after_a_terms_change(client, resident) -> None:
    grant(resident, "disaster_warnings", "places")
    old = terms_of("disaster_warnings")
    new = terms_publish(
        purpose_code="disaster_warnings",
        category_codes=old.category_codes,
        recipient_codes=[*old.recipient_codes, "operator"],
        text_ja=old.text_ja,
        text_en=old.text_en,
        retention_days=old.retention_days,
        valid_days=old.valid_days,
        withdrawal_method_ja=old.withdrawal_method_ja,
        withdrawal_method_en=old.withdrawal_method_en,
    )
    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == set()
    html = client.get("/consent/purposes/disaster_warnings/").content.decode()
    assert "You had agreed to an earlier version" in html
    assert not re.findall(r"<input[^>]*checked[^>]*>", html)

    client.post("/consent/purposes/disaster_warnings/", {"categories": ["places"], "terms": new.pk})

    assert policy.allowed_categories(resident_id=resident.pk, purpose="disaster_warnings") == {
        "places"
    }


def test_purpose_page_refuses_terms_replaced_while_reading(client, resident) -> None:
    old = terms_of("disaster_warnings")
    publish_wording_change("disaster_warnings")
    response = client.post(
        "/consent/purposes/disaster_warnings/", {"categories": ["places"], "terms": old.pk}
    )
    assert response.status_code == 200
    assert "replaced while you were reading" in response.content.decode()
    assert events_of(resident) == []


@pytest.mark.parametrize(
    "url",
    [
        "/consent/purposes/sell_to_advertisers/",
        "/consent/purposes/sell_to_advertisers/withdraw/",
        "/consent/categories/shoe_size/withdraw/",
    ],
)
def test_unknown_purpose_or_category_is_not_found(client, url) -> None:
    user = UserFactory.create()
    client.force_login(user)
    assert client.get(url).status_code == 404


# -- withdrawal --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "purpose", "left"),
    [
        ("/consent/purposes/personalised_home/withdraw/", "personalised_home", set()),
        ("/consent/categories/interests/withdraw/", "personalised_home", {"age"}),
    ],
)
def test_a_resident_who_logged_in_long_ago_withdraws_with_one_get_and_one_post(
    url, purpose, left
) -> None:
    """Granting needs a logged-in session and nothing more: so does withdrawing (GDPR Art. 7(3)).
    A browser that checks CSRF like a real one: the token comes from the confirmation page."""
    user = UserFactory.create()
    browser = Client(enforce_csrf_checks=True)
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    log_in_long_ago(browser, user)
    grant(user, "personalised_home", "age", "interests")

    confirmation = browser.get(url)
    assert confirmation.status_code == 200
    response = browser.post(url, {"csrfmiddlewaretoken": csrf_token_of(confirmation)})

    assert response.status_code == 302
    assert response["Location"] == "/consent/"
    assert policy.allowed_categories(resident_id=user.pk, purpose=purpose) == left


def test_the_withdraw_confirmation_page_alone_changes_nothing(client) -> None:
    user = UserFactory.create()
    log_in_long_ago(client, user)
    grant(user, "personalised_home", "interests")

    response = client.get("/consent/categories/interests/withdraw/")

    assert response.status_code == 200
    assert "Withdraw" in response.content.decode()
    assert policy.allowed_categories(resident_id=user.pk, purpose="personalised_home") == {
        "interests"
    }
    assert [e.kind for e in events_of(user)] == ["grant"]


def test_withdrawing_a_purpose_says_what_was_deleted_and_kept(client) -> None:
    user = UserFactory.create()
    log_in_long_ago(client, user)
    grant(user, "personalised_home", "places", "interests")
    grant(user, "disaster_warnings", "places")
    profile_services.place_add(
        resident_id=user.pk, kind="home", area_code=DistrictFactory.create().code
    )
    profile_services.profile_set_interests(resident_id=user.pk, interest_codes=["sports"])

    response = client.post("/consent/purposes/personalised_home/withdraw/", follow=True)

    assert response.redirect_chain == [("/consent/", 302)]
    said = messages_of(response)
    assert "Withdrawn: “Personalised home page” no longer uses your “Places”, “Interests”." in said
    assert "Deleted: your “Interests”, because no purpose uses them any more." in said
    assert "Kept: your “Places”, because “Disaster warnings for my areas” still uses them." in said
    assert policy.allowed_categories(resident_id=user.pk, purpose="personalised_home") == set()
    assert stored_places(user)


def test_withdrawing_a_category_everywhere_deletes_its_data(client) -> None:
    user = UserFactory.create()
    client.force_login(user)
    grant(user, "personalised_home", "places")
    grant(user, "disaster_warnings", "places", "location")
    profile_services.place_add(
        resident_id=user.pk, kind="home", area_code=DistrictFactory.create().code
    )

    response = client.post("/consent/categories/places/withdraw/", follow=True)

    said = messages_of(response)
    assert "Deleted: your “Places”, because no purpose uses them any more." in said
    assert not any(m.startswith("Kept") for m in said)
    assert stored_places(user) == []
    assert policy.allowed_categories(resident_id=user.pk, purpose="disaster_warnings") == {
        "location"
    }


def test_withdraw_confirmation_page_says_what_will_be_kept(client) -> None:
    user = UserFactory.create()
    client.force_login(user)
    grant(user, "personalised_home", "places", "interests")
    grant(user, "disaster_warnings", "places")

    html = client.get("/consent/purposes/personalised_home/withdraw/").content.decode()

    assert "“Personalised home page” stops using your “Places”." in html
    assert "It is kept, because these purposes still use it:" in html
    assert "No other purpose uses it: it is deleted at once." in html
    assert '<form method="post" action="/consent/purposes/personalised_home/withdraw/"' in html


def test_withdrawing_with_nothing_active_says_so_and_records_nothing(client, resident) -> None:
    response = client.post("/consent/purposes/school_letters/withdraw/", follow=True)
    assert messages_of(response) == [
        "You had no active consent for “School letters for my children”: nothing was withdrawn."
    ]
    assert events_of(resident) == []


# -- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/consent/",
        "/consent/setup/",
        "/consent/setup/places/",
        "/consent/setup/done/",
        "/consent/purposes/personalised_home/",
        "/consent/purposes/personalised_home/withdraw/",
        "/consent/categories/places/withdraw/",
    ],
)
def test_anonymous_visitor_is_sent_to_log_in(client, url) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "url",
    [
        "/consent/purposes/personalised_home/withdraw/",
        "/consent/categories/interests/withdraw/",
    ],
)
def test_a_withdrawal_posted_without_a_csrf_token_is_refused(url) -> None:
    """No password guards withdrawal any more: CSRF is what stops another site from posting it."""
    user = UserFactory.create()
    grant(user, "personalised_home", "interests")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post(url)
    assert response.status_code == 403
    assert policy.allowed_categories(resident_id=user.pk, purpose="personalised_home") == {
        "interests"
    }
