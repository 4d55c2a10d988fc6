"""Passwords: a list of common and breached passwords twice Django's own, and no trivial
repetition, at sign-up as everywhere allauth sets a password."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from portal.models import User
from tests.factories import DEFAULT_PASSWORD
from tests.portal.test_accounts import GOOD_PASSWORD, sign_up

pytestmark = pytest.mark.django_db

# In zxcvbn's list of breached passwords, not in Django's: Django's validator alone lets them by.
BREACHED_NOT_IN_DJANGOS_LIST = ["whosyourdaddy", "iseedeadpeople", "WebSolutions"]


def _codes(password: str) -> set[str]:
    try:
        validate_password(password)
    except ValidationError as error:
        return {str(item.code) for item in error.error_list}
    return set()


@pytest.mark.parametrize("password", BREACHED_NOT_IN_DJANGOS_LIST)
def test_a_breached_password_missing_from_djangos_list_is_refused(password: str) -> None:
    assert "password_too_common" in _codes(password)


def test_djangos_own_list_still_counts() -> None:
    assert "password_too_common" in _codes("password1234")


@pytest.mark.parametrize(
    "password",
    ["aaaaaaaaaaaa", "AAAAaaaaAAAA", "abcabcabcabc", "Abc1Abc1Abc1Abc1", "aaaaaaaaaaab"],
)
def test_a_repeated_character_or_piece_is_refused(password: str) -> None:
    assert "password_repetitive" in _codes(password)


@pytest.mark.parametrize("password", ["abcdefghijklm", "zyxwvutsrqpo", "7890123456789"])
def test_a_plain_sequence_is_refused(password: str) -> None:
    assert "password_repetitive" in _codes(password)


@pytest.mark.parametrize("password", [DEFAULT_PASSWORD, GOOD_PASSWORD, "会津の鶴ヶ城は1384年"])
def test_a_strong_password_passes_every_validator(password: str) -> None:
    assert _codes(password) == set()


def test_sign_up_with_a_repeated_password_is_refused_in_japanese(client) -> None:
    response = sign_up(client, password="abcabcabcabc")
    assert response.status_code == 200
    assert "繰り返し" in response.content.decode()
    assert not User.objects.filter(email="new@example.jp").exists()


def test_sign_up_with_a_breached_password_is_refused(client) -> None:
    response = sign_up(client, password="iseedeadpeople")
    assert response.status_code == 200
    assert not User.objects.filter(email="new@example.jp").exists()
