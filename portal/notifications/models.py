"""Notifications: what a resident asked to be sent, where, and every message as an outbox row.

Nothing is sent to a resident who has not turned notifications on here: a resident without a
``NotificationPreference`` row, or with no channel, gets nothing. Whether a warning may use the
resident's places at all is the consent gate's answer, asked when the warning is fanned out and
again when each message is sent (``portal.notifications.services``).

A ``Delivery`` is one message to one resident on one channel: created in the transaction that
decides to send it, then ``created`` → ``sending`` → ``sent`` / ``failed`` / ``suppressed``.
"""

from __future__ import annotations

from datetime import time
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.notices.models import Notice


class Channel(models.TextChoices):
    EMAIL = "email", pgettext_lazy("channel", "Email")
    PUSH = "push", _("Push notification on this device")
    WEBHOOK = "webhook", _("Messaging gateway (webhook, e.g. LINE)")


class Digest(models.TextChoices):
    OFF = "off", _("No digest")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class NotificationPreference(models.Model):
    """What one resident asked to be sent. Everything is off until they turn it on."""

    resident = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    # The channels they chose, most wanted first: a message goes on the first, and on the next
    # when the first cannot deliver it (portal/notifications/services.py).
    channels = models.JSONField(_("channels, in order"), default=list, blank=True)
    warnings = models.BooleanField(_("warnings and emergencies for my areas"), default=False)
    drills = models.BooleanField(_("exercises and tests too"), default=False)
    digest = models.CharField(
        _("digest of other notices"), max_length=8, choices=Digest.choices, default=Digest.OFF
    )
    # The notice categories a digest may hold; empty: every category.
    digest_categories = models.JSONField(_("digest categories"), default=list, blank=True)
    # Digests and drills wait until quiet hours end; warnings never wait.
    quiet_from = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_until = models.TimeField(_("quiet until"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        indexes = [
            # The fan-out of a warning reads the residents who want warnings by id range.
            models.Index(fields=["resident"], condition=Q(warnings=True), name="notify_warn_idx"),
            models.Index(fields=["resident"], condition=Q(drills=True), name="notify_drill_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id}: {', '.join(self.channels) or '-'}"

    @property
    def wants_something(self) -> bool:
        return self.warnings or self.drills or self.digest != Digest.OFF

    def is_quiet_at(self, moment: time) -> bool:
        """Whether ``moment`` (local time) falls in the quiet hours; they may span midnight."""
        if self.quiet_from is None or self.quiet_until is None:
            return False
        if self.quiet_from <= self.quiet_until:
            return self.quiet_from <= moment < self.quiet_until
        return moment >= self.quiet_from or moment < self.quiet_until


# Push services by the browsers that use them.
PUSH_SERVICE_NAMES = (
    ("fcm.googleapis.com", "Chrome / Android"),
    ("mozilla.com", "Firefox"),
    ("push.apple.com", "Safari"),
    ("notify.windows.com", "Edge"),
)


class PushSubscription(models.Model):
    """A browser's Web Push subscription (its push service endpoint and keys). Removed when the
    push service answers 404 or 410: the browser unsubscribed or the subscription expired."""

    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(_("push service endpoint"), max_length=1000, unique=True)
    p256dh = models.CharField(_("public key"), max_length=200)
    auth = models.CharField(_("authentication secret"), max_length=100)
    created_at = models.DateTimeField(_("subscribed at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.resident_id}: {self.endpoint[:60]}"

    @property
    def service(self) -> str:
        """The browser behind the push service, so that a resident tells theirs apart."""
        host = (urlsplit(self.endpoint).hostname or "").lower()
        for suffix, name in PUSH_SERVICE_NAMES:
            if host == suffix or host.endswith("." + suffix):
                return name
        return host


class WebhookEndpoint(models.Model):
    """Where a messaging gateway (a LINE official-account bridge, or any other) takes the
    resident's messages: JSON, signed with ``secret`` (HMAC-SHA256 over timestamp and body)."""

    resident = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoint"
    )
    url = models.URLField(_("address"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100)
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)
    last_delivered_at = models.DateTimeField(_("last delivered at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.resident_id}: {self.url}"


class Kind(models.TextChoices):
    ALERT = "alert", _("alert")
    UPDATE = "update", _("update")
    CANCELLATION = "cancellation", _("cancellation")
    DIGEST = "digest", _("digest")


# Kinds that belong to a warning: sent at once, even in quiet hours.
WARNING_KINDS = (Kind.ALERT, Kind.UPDATE, Kind.CANCELLATION)


class DeliveryStatus(models.TextChoices):
    CREATED = "created", _("waiting")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    SUPPRESSED = "suppressed", _("not sent (no longer allowed or wanted)")


PENDING = (DeliveryStatus.CREATED, DeliveryStatus.SENDING)


class Delivery(models.Model):
    """One message to one resident on one channel: the outbox row that makes it sent once."""

    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # The notice it tells of; empty for a digest (its notices are in ``digest_notice_ids``).
    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.CREATED
    )
    # A digest's period (the day it covers up to) and the notices it holds.
    digest_period = models.DateField(_("digest period"), null=True, blank=True)
    digest_notice_ids = models.JSONField(_("digest notices"), default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    # What the channel answered: the email's Message-ID, a push service's message address, the
    # gateway's id.
    provider_id = models.CharField(_("provider id"), max_length=300, blank=True)
    # When a waiting row may next be tried; while it is being sent, when the sender's lease ends
    # (a row still "sending" after that lost its worker: the sweep sends it again).
    next_try_at = models.DateTimeField(_("next try at"))
    # Which claim of a sender holds the row while it is "sending": a sender that outlived its
    # lease (the sweep gave the row to another) finds its claim gone and records nothing.
    claim = models.UUIDField(_("claim"), null=True, blank=True, editable=False)
    # The delivery on an earlier channel this one takes over from.
    fallback_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "notice", "channel", "kind"],
                condition=Q(notice__isnull=False),
                name="one_delivery_per_notice_channel_kind",
            ),
            models.UniqueConstraint(
                fields=["resident", "digest_period", "channel"],
                condition=Q(kind="digest"),
                name="one_digest_per_period_channel",
            ),
            models.CheckConstraint(
                condition=Q(kind="digest", notice__isnull=True, digest_period__isnull=False)
                | (~Q(kind="digest") & Q(notice__isnull=False)),
                name="delivery_has_notice_or_digest_period",
            ),
        ]
        indexes = [
            # The sweep: rows waiting or stuck, oldest due first (a handful at any moment).
            models.Index(
                fields=["next_try_at"],
                condition=Q(status__in=["created", "sending"]),
                name="delivery_pending_idx",
            ),
            # The staff page's counts per notice, and who was told of a notice.
            models.Index(fields=["notice", "status"], name="delivery_notice_status_idx"),
            # The nightly prune of rows past their retention.
            models.Index(fields=["created_at"], name="delivery_created_idx"),
            # A withdrawal suppresses the resident's waiting rows.
            models.Index(
                fields=["resident"],
                condition=Q(status__in=["created", "sending"]),
                name="delivery_resident_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.channel} → {self.resident_id}: {self.status}"
