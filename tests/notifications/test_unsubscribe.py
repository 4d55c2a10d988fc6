"""Every email's one-click unsubscribe: it works without logging in, a GET changes nothing (mail
scanners follow links), and a link this site did not sign changes nothing for anyone."""

from __future__ import annotations

import base64
import json

import pytest
from django.urls import reverse

from portal.notifications.models import NotificationPreference
from portal.notifications.services import Preferences, preferences_update
from portal.notifications.tokens import unsubscribe_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribed():
    resident = UserFactory.create()
    preferences_update(
        resident_id=resident.pk,
        preferences=Preferences(channels=["email", "webhook"], warnings=True),
    )
    return resident


def url_for(resident_id: int, channel: str = "email") -> str:
    return reverse(
        "notifications:unsubscribe",
        args=[unsubscribe_token(resident_id=resident_id, channel=channel)],
    )


def channels_of(resident) -> list[str]:
    return NotificationPreference.objects.get(resident=resident).channels


def test_following_the_link_asks_first_and_changes_nothing(client, subscribed) -> None:
    response = client.get(url_for(subscribed.pk))

    assert response.status_code == 200
    assert channels_of(subscribed) == ["email", "webhook"]


def test_the_one_click_post_unsubscribes_without_logging_in(client, subscribed) -> None:
    response = client.post(url_for(subscribed.pk), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert channels_of(subscribed) == ["webhook"]


def test_a_mail_clients_post_needs_no_csrf_token(subscribed) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)

    response = client.post(url_for(subscribed.pk), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert channels_of(subscribed) == ["webhook"]


def test_unsubscribing_twice_changes_nothing_more(client, subscribed) -> None:
    client.post(url_for(subscribed.pk))
    response = client.post(url_for(subscribed.pk))

    assert response.status_code == 200
    assert channels_of(subscribed) == ["webhook"]


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "eyJyIjoxLCJjIjoiZW1haWwifQ:1abcde:forged",
    ],
)
def test_a_link_this_site_did_not_sign_is_refused(client, subscribed, token) -> None:
    response = client.post(reverse("notifications:unsubscribe", args=[token]))

    assert response.status_code == 400
    assert channels_of(subscribed) == ["email", "webhook"]


def test_a_tampered_link_cannot_unsubscribe_another_resident(client, subscribed) -> None:
    other = UserFactory.create()
    preferences_update(
        resident_id=other.pk, preferences=Preferences(channels=["email"], warnings=True)
    )
    token = unsubscribe_token(resident_id=subscribed.pk, channel="email")
    _value, rest = token.split(":", 1)
    # Another resident's id in the signed part, the signature left as it was.
    forged = base64.urlsafe_b64encode(json.dumps({"r": other.pk, "c": "email"}).encode()).decode()
    response = client.post(
        reverse("notifications:unsubscribe", args=[forged.rstrip("=") + ":" + rest])
    )

    assert response.status_code == 400
    assert channels_of(other) == ["email"]
    assert channels_of(subscribed) == ["email", "webhook"]
