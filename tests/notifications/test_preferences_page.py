"""The resident's notification settings: nothing is on until they turn it on, and what cannot be
saved is shown next to its field with nothing saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.notifications.models import NotificationPreference
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("notifications:preferences")


def test_the_page_asks_a_visitor_to_log_in(client) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_a_resident_who_never_chose_has_everything_off(client) -> None:
    client.force_login(UserFactory.create())

    response = client.get(URL)

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["warnings"] is False
    assert form.initial["digest"] == "off"
    assert not NotificationPreference.objects.exists()


def test_saving_keeps_the_channels_in_the_order_chosen(client) -> None:
    resident = UserFactory.create()
    client.force_login(resident)

    response = client.post(
        URL,
        {
            "warnings": "on",
            "first_channel": "webhook",
            "second_channel": "email",
            "digest": "weekly",
            "digest_categories": ["events", "health"],
            "quiet_from": "22:00",
            "quiet_until": "06:30",
        },
    )

    assert response.status_code == 302
    saved = NotificationPreference.objects.get(resident=resident)
    assert saved.channels == ["webhook", "email"]
    assert saved.warnings is True
    assert saved.digest == "weekly"
    assert saved.digest_categories == ["events", "health"]
    assert saved.quiet_from is not None
    assert saved.quiet_from.isoformat() == "22:00:00"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"warnings": "on", "digest": "off"}, "first_channel"),
        ({"first_channel": "email", "second_channel": "email", "digest": "off"}, "second_channel"),
        ({"first_channel": "fax", "digest": "off"}, "first_channel"),
        ({"first_channel": "email", "digest": "hourly"}, "digest"),
        ({"first_channel": "email", "digest": "off", "quiet_from": "22:00"}, "quiet_until"),
        (
            {
                "first_channel": "email",
                "digest": "off",
                "quiet_from": "22:00",
                "quiet_until": "22:00",
            },
            "quiet_until",
        ),
        (
            {
                "first_channel": "email",
                "digest": "off",
                "quiet_from": "25:99",
                "quiet_until": "06:00",
            },
            "quiet_from",
        ),
        (
            {"first_channel": "email", "digest": "daily", "digest_categories": ["nonsense"]},
            "digest_categories",
        ),
    ],
)
def test_what_cannot_be_saved_is_shown_and_nothing_is_saved(client, data, field) -> None:
    resident = UserFactory.create()
    client.force_login(resident)

    response = client.post(URL, data)

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not NotificationPreference.objects.filter(resident=resident).exists()


def test_the_page_says_when_places_are_not_shared_for_warnings(client) -> None:
    client.force_login(UserFactory.create())

    response = client.get(URL)

    assert response.context["shares_places"] is False
    assert "今は警報を送ることができません" in response.content.decode()


def test_the_export_holds_the_settings_and_the_messages_but_not_the_gateway_secret(client) -> None:
    from django.utils import timezone

    from portal.notifications.models import Delivery, WebhookEndpoint
    from tests.factories import NoticeFactory

    resident = UserFactory.create()
    client.force_login(resident)
    client.post(URL, {"warnings": "on", "first_channel": "webhook", "digest": "off"})
    WebhookEndpoint.objects.create(
        resident=resident, url="https://gateway.example.jp/hook", secret="s3cret-value"
    )
    notice = NoticeFactory.create(category="disaster", urgency="warning")
    Delivery.objects.create(
        resident=resident,
        notice=notice,
        channel="webhook",
        kind="alert",
        status="sent",
        next_try_at=timezone.now(),
    )

    response = client.get(reverse("me:export"))

    section = response.json()["notifications"]
    assert section["preferences"]["channels"] == ["webhook"]
    assert section["webhook"]["url"] == "https://gateway.example.jp/hook"
    assert [m["notice_id"] for m in section["messages"]] == [notice.pk]
    assert "s3cret-value" not in response.content.decode()


def test_push_is_not_offered_until_the_city_sets_it_up(client, settings) -> None:
    from portal.management.commands.generate_vapid_keys import generate_vapid_keys

    client.force_login(UserFactory.create())
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    offered = dict(client.get(URL).context["form"].fields["first_channel"].choices)
    assert "push" not in offered

    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = generate_vapid_keys()
    offered = dict(client.get(URL).context["form"].fields["first_channel"].choices)
    assert "push" in offered


def test_the_page_says_when_nothing_can_reach_the_resident(client) -> None:
    from portal.notifications.services import Preferences, preferences_update

    resident = UserFactory.create()
    preferences_update(
        resident_id=resident.pk, preferences=Preferences(channels=["webhook"], warnings=True)
    )
    client.force_login(resident)

    readiness = client.get(URL).context["readiness"]

    assert readiness.nothing_can_be_sent is True


def test_the_page_names_the_chosen_channels_that_cannot_carry_a_message(client) -> None:
    from portal.notifications.services import Preferences, preferences_update

    resident = UserFactory.create()
    preferences_update(
        resident_id=resident.pk,
        preferences=Preferences(channels=["push", "email"], warnings=True),
    )
    client.force_login(resident)

    readiness = client.get(URL).context["readiness"]

    assert readiness.nothing_can_be_sent is False
    assert len(readiness.without_means) == 1  # push: no browser subscribed
