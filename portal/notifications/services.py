"""Writes of a resident's notification settings: their preferences, their push subscriptions,
their messaging gateway, and the one-click unsubscribe. Each in one transaction.

Turning a channel off, or warnings off, takes effect for messages still waiting too: each is
checked again when it is sent (portal/notifications/delivery.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from portal.models import User
from portal.notices.models import Category as NoticeCategory
from portal.notifications.models import (
    Channel,
    Digest,
    NotificationPreference,
    PushSubscription,
    WebhookEndpoint,
)
from portal.notifications.push import check_push_subscription
from portal.notifications.tokens import read_unsubscribe_token
from portal.notifications.webhooks import check_webhook_url


@dataclass(frozen=True)
class Preferences:
    """Everything the preferences page sets."""

    channels: Sequence[str] = ()
    warnings: bool = False
    drills: bool = False
    digest: str = Digest.OFF
    digest_categories: Sequence[str] = ()
    quiet_from: time | None = None
    quiet_until: time | None = None

    @property
    def wants_something(self) -> bool:
        return self.warnings or self.drills or self.digest != Digest.OFF


def preferences_of(*, resident_id: int) -> NotificationPreference:
    """The resident's preferences; everything off for one who never set them (not saved)."""
    return NotificationPreference.objects.filter(
        resident_id=resident_id
    ).first() or NotificationPreference(resident_id=resident_id)


def preferences_update(*, resident_id: int, preferences: Preferences) -> NotificationPreference:
    """Save the resident's preferences; ``ValidationError`` (nothing saved) for what cannot be."""
    _check(preferences)
    with transaction.atomic():
        row, _created = NotificationPreference.objects.select_for_update().get_or_create(
            resident_id=resident_id
        )
        row.channels = list(dict.fromkeys(preferences.channels))
        row.warnings = preferences.warnings
        row.drills = preferences.drills
        row.digest = preferences.digest
        row.digest_categories = sorted(set(preferences.digest_categories))
        row.quiet_from = preferences.quiet_from
        row.quiet_until = preferences.quiet_until
        row.save()
    return row


def _check(preferences: Preferences) -> None:
    errors: dict[str, list[str]] = {}
    unknown = set(preferences.channels) - set(Channel.values)
    if unknown:
        errors["channels"] = [
            _("Unknown channel: %(codes)s") % {"codes": ", ".join(sorted(unknown))}
        ]
    if preferences.digest not in Digest.values:
        errors["digest"] = [_("Choose how often the digest comes.")]
    unknown = set(preferences.digest_categories) - set(NoticeCategory.values)
    if unknown:
        errors["digest_categories"] = [
            _("Unknown category: %(codes)s") % {"codes": ", ".join(sorted(unknown))}
        ]
    if (preferences.quiet_from is None) != (preferences.quiet_until is None):
        errors["quiet_until"] = [
            _("Give both the start and the end of the quiet hours, or neither.")
        ]
    elif preferences.quiet_from is not None and preferences.quiet_from == preferences.quiet_until:
        errors["quiet_until"] = [_("Quiet hours must end at another time than they start.")]
    if preferences.wants_something and not preferences.channels:
        errors["channels"] = [_("Choose at least one channel to be sent notifications on.")]
    if errors:
        raise ValidationError(errors)


def channel_unsubscribe(*, token: str) -> str:
    """The one-click unsubscribe of an email's link: the channel the token names is taken off
    the resident's channels. Returns the channel; ``BadToken`` for a link this site did not make.
    Unsubscribing twice changes nothing."""
    unsubscribe = read_unsubscribe_token(token)
    with transaction.atomic():
        row = (
            NotificationPreference.objects.select_for_update()
            .filter(resident_id=unsubscribe.resident_id)
            .first()
        )
        if row is not None and unsubscribe.channel in row.channels:
            row.channels = [channel for channel in row.channels if channel != unsubscribe.channel]
            row.save(update_fields=["channels", "updated_at"])
    return unsubscribe.channel


# The browsers and devices one resident may receive push notifications on.
MAX_PUSH_SUBSCRIPTIONS = 10


def push_subscribe(*, resident_id: int, subscription: object) -> PushSubscription:
    """Keep the push subscription a browser posted (``check_push_subscription`` says what is
    refused). The same endpoint again updates its keys; an endpoint another resident registered
    moves to this one (a browser belongs to whoever subscribed in it last). At most
    ``MAX_PUSH_SUBSCRIPTIONS`` per resident: ``ValidationError`` for one more."""
    checked = check_push_subscription(subscription)
    with transaction.atomic():
        # The resident's row serializes their subscribes: the limit holds under concurrency.
        User.objects.select_for_update().filter(pk=resident_id).values_list("pk").first()
        row = PushSubscription.objects.select_for_update().filter(endpoint=checked.endpoint).first()
        if row is None or row.resident_id != resident_id:
            kept = PushSubscription.objects.filter(resident_id=resident_id).count()
            if kept >= MAX_PUSH_SUBSCRIPTIONS:
                raise ValidationError(
                    _(
                        "Push notifications are already on in %(count)s browsers or devices. "
                        "Turn them off in one you no longer use first."
                    )
                    % {"count": kept},
                    code="too_many",
                )
        if row is None:
            row = PushSubscription.objects.create(
                resident_id=resident_id,
                endpoint=checked.endpoint,
                p256dh=checked.p256dh,
                auth=checked.auth,
            )
        else:
            if row.resident_id != resident_id:
                row.resident_id = resident_id
                row.last_used_at = None
            row.p256dh = checked.p256dh
            row.auth = checked.auth
            row.save(update_fields=["resident", "p256dh", "auth", "last_used_at"])
    return row


def push_unsubscribe(*, resident_id: int, endpoint: str) -> bool:
    """Forget the resident's subscription at ``endpoint``; False when they had none there."""
    with transaction.atomic():
        deleted, _counts = PushSubscription.objects.filter(
            resident_id=resident_id, endpoint=endpoint
        ).delete()
    return deleted > 0


# ------------------------------------------------------------------------------------------------
# The messaging gateway (webhook)
# ------------------------------------------------------------------------------------------------


def _new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def webhook_set(*, resident_id: int, url: str) -> tuple[WebhookEndpoint, str | None]:
    """Save the resident's gateway address; ``ValidationError`` (nothing saved) for one that may
    not be called (``check_webhook_url``). A new endpoint gets a new signing secret, returned
    this once (the page shows it once); a changed address keeps the secret (``None``)."""
    try:
        url = check_webhook_url(url)  # asks the name server: outside the transaction
    except ValidationError as error:
        raise ValidationError({"url": error.error_list}) from None
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update().filter(resident_id=resident_id).first()
        )
        if endpoint is None:
            secret = _new_webhook_secret()
            endpoint = WebhookEndpoint.objects.create(
                resident_id=resident_id, url=url, secret=secret
            )
            return endpoint, secret
        if endpoint.url != url:
            endpoint.url = url
            # What was said of the old address is not said of the new one.
            endpoint.last_delivered_at = None
            endpoint.last_error = ""
            endpoint.save(update_fields=["url", "last_delivered_at", "last_error"])
        return endpoint, None


def webhook_new_secret(*, resident_id: int) -> str:
    """A new signing secret for the resident's gateway, returned this once; the old one stops
    signing at once. ``ValidationError`` when they have no gateway."""
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update().filter(resident_id=resident_id).first()
        )
        if endpoint is None:
            raise ValidationError({"url": [_("Give your messaging gateway's address first.")]})
        endpoint.secret = _new_webhook_secret()
        endpoint.save(update_fields=["secret"])
    return endpoint.secret


def webhook_remove(*, resident_id: int) -> bool:
    """Forget the resident's gateway (and its secret); whether there was one."""
    with transaction.atomic():
        deleted, _by_model = WebhookEndpoint.objects.filter(resident_id=resident_id).delete()
    return deleted > 0
