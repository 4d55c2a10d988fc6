"""Under DEBUG (`make run`), a page not found is still the styled 404 page, unless asked."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STYLED = "ページが見つかりません"
# Django's technical 404 page lists the site's URL patterns under this sentence.
TECHNICAL = "Django tried these URL patterns"


@pytest.fixture(autouse=True)
def debug(settings) -> None:
    settings.DEBUG = True


def test_unknown_url_under_debug_gets_the_styled_404_page_not_the_url_patterns(client) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert STYLED in html
    assert TECHNICAL not in html


def test_unknown_object_under_debug_gets_the_styled_404_page(client) -> None:
    client.force_login(UserFactory.create())

    response = client.get(f"/consent/receipts/{uuid.uuid4()}/")

    assert response.status_code == 404
    assert STYLED in response.content.decode()


def test_url_without_its_trailing_slash_is_still_redirected_under_debug(client) -> None:
    response = client.get("/shelters")

    assert response.status_code == 301
    assert response["Location"] == "/shelters/"


def test_developer_who_asks_for_the_technical_404_page_gets_it(client, settings) -> None:
    settings.DEBUG_TECHNICAL_404 = True

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert TECHNICAL in response.content.decode()
