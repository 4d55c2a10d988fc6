"""Every kind of form page shows a refused submission through the shared form templates
(templates/includes/form/): an error summary that links each error to its field, and fields
whose control names its error in aria-describedby."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.factories import UserFactory
from tests.helpers import grant, terms_of

pytestmark = pytest.mark.django_db


class _Page(HTMLParser):
    """The attributes of every element with an id, and the links of the error summary."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str]] = {}
        self.summary_links: list[str] = []
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.by_id[values["id"]] = values | {"tag": tag}
        if tag == "a" and "error-summary" in self._open:
            self.summary_links.append(values.get("href", ""))
        if tag in {"div", "ul", "li"}:
            self._open.append(values.get("id", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in {"div", "ul", "li"} and self._open:
            self._open.pop()


def assert_shared_error_summary(page: _Page) -> None:
    summary = page.by_id["error-summary"]
    assert summary["class"] == "error-summary"
    assert summary["role"] == "alert"
    assert summary["tabindex"] == "-1"


def assert_described_by_its_error(page: _Page, *, control: str, field: str) -> None:
    """The control (or the fieldset of a group) names the field's error, which is on the page."""
    assert f"{field}_error" in page.by_id[control]["aria-describedby"].split()
    assert page.by_id[f"{field}_error"]["class"] == "field__error"


@pytest.fixture(autouse=True)
def english(client) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def test_a_refused_sign_up_links_its_errors_to_allauths_fields(client) -> None:
    response = client.post(
        "/accounts/signup/", {"email": "not-an-address", "password1": "x", "password2": "x"}
    )
    page = _Page(response.content.decode())
    assert_shared_error_summary(page)
    assert "#id_email" in page.summary_links
    assert page.by_id["id_email"]["aria-invalid"] == "true"
    assert_described_by_its_error(page, control="id_email", field="id_email")


def test_a_refused_consent_choice_links_its_error_to_the_first_option(client) -> None:
    resident = UserFactory.create()
    client.force_login(resident)
    response = client.post(
        "/consent/purposes/personalised_home/",
        {"categories": ["bank_balance"], "terms": terms_of("personalised_home").pk},
    )
    page = _Page(response.content.decode())
    assert_shared_error_summary(page)
    assert page.summary_links == ["#id_categories_0"]
    assert page.by_id["id_categories"]["tag"] == "fieldset"
    assert_described_by_its_error(page, control="id_categories", field="id_categories")


def test_a_refused_profile_section_links_its_error_to_the_field(client) -> None:
    resident = UserFactory.create()
    client.force_login(resident)
    grant(resident, "personalised_home", "age")
    response = client.post("/me/profile/age/", {"birth_year": "1850"})
    page = _Page(response.content.decode())
    assert_shared_error_summary(page)
    assert page.summary_links == ["#id_birth_year"]
    assert page.by_id["id_birth_year"]["aria-describedby"] == (
        "id_birth_year_helptext id_birth_year_error"
    )
    assert_described_by_its_error(page, control="id_birth_year", field="id_birth_year")


def test_a_form_wide_error_links_to_the_forms_own_error_block(client) -> None:
    UserFactory.create(email="hanako@example.jp")
    response = client.post(
        "/accounts/login/", {"login": "hanako@example.jp", "password": "wrong-password-1"}
    )
    page = _Page(response.content.decode())
    assert page.summary_links == ["#form-errors"]
    assert page.by_id["form-errors"]["class"] == "field__error"


def test_allauths_own_controls_get_the_shared_field_layout(client) -> None:
    resident = UserFactory.create()
    client.force_login(resident)
    html = client.get("/accounts/email/").content.decode()
    radio = _Page(html).by_id["email_radio_0"]
    assert (radio["tag"], radio["type"]) == ("input", "radio")
    assert '<div class="field field--choice">' in html
    assert '<label for="email_radio_0">' in html
