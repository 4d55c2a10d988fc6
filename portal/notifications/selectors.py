"""Reads of notifications: a notice's delivery counts for staff, a resident's own settings."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from django.db.models import Count, Exists, OuterRef

from portal.notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Kind,
    NotificationPreference,
    PushSubscription,
    WebhookEndpoint,
)

# How staff see a row's status: waiting and being sent are both "pending".
SHOWN_STATUS = {
    DeliveryStatus.CREATED: "pending",
    DeliveryStatus.SENDING: "pending",
    DeliveryStatus.SENT: "sent",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.SUPPRESSED: "suppressed",
}
# A failed row whose message went on to the resident's next channel is "passed on": the
# resident was not left without it.
SHOWN_ORDER = ("sent", "pending", "passed_on", "failed", "suppressed")


@dataclass(frozen=True)
class CountsRow:
    kind: str
    channel: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def kind_label(self) -> str:
        return str(Kind(self.kind).label)

    @property
    def channel_label(self) -> str:
        return str(Channel(self.channel).label)


@dataclass(frozen=True)
class DeliveryCounts:
    """A notice's deliveries: how many sent, pending, failed and suppressed, in all and by kind
    and channel, and the commonest reasons for not sending (no resident named)."""

    totals: dict[str, int]
    rows: list[CountsRow]
    reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def delivery_counts(*, notice_id: int, reasons: int = 10) -> DeliveryCounts:
    grouped = (
        Delivery.objects.filter(notice_id=notice_id)
        .annotate(passed_on=Exists(Delivery.objects.filter(fallback_of=OuterRef("pk"))))
        .values("kind", "channel", "status", "passed_on")
        .annotate(n=Count("id"))
        .order_by()
    )
    totals: Counter[str] = Counter()
    by_pair: dict[tuple[str, str], Counter[str]] = {}
    for entry in grouped:
        shown = SHOWN_STATUS[DeliveryStatus(entry["status"])]
        if shown == "failed" and entry["passed_on"]:
            shown = "passed_on"
        totals[shown] += entry["n"]
        by_pair.setdefault((entry["kind"], entry["channel"]), Counter())[shown] += entry["n"]
    kind_order = {kind: position for position, kind in enumerate(Kind.values)}
    channel_order = {channel: position for position, channel in enumerate(Channel.values)}
    rows = [
        CountsRow(kind=kind, channel=channel, counts={s: counts[s] for s in SHOWN_ORDER})
        for (kind, channel), counts in sorted(
            by_pair.items(), key=lambda item: (kind_order[item[0][0]], channel_order[item[0][1]])
        )
    ]
    # Why messages were not sent, in the sender's own words (a fixed few, naming no one); why
    # one failed is the channel's answer, which may name the resident's address or gateway:
    # staff see those only as failures per channel, above.
    common = (
        Delivery.objects.filter(notice_id=notice_id, status=DeliveryStatus.SUPPRESSED)
        .exclude(last_error="")
        .values("last_error")
        .annotate(n=Count("id"))
        .order_by("-n", "last_error")[:reasons]
    )
    return DeliveryCounts(
        totals={s: totals[s] for s in SHOWN_ORDER},
        rows=rows,
        reasons=[(entry["last_error"], entry["n"]) for entry in common],
    )


@dataclass(frozen=True)
class Means:
    """What the resident has for each channel."""

    email: str | None
    push_subscriptions: list[PushSubscription]
    webhook: WebhookEndpoint | None


def means_of(*, resident_id: int) -> Means:
    return Means(
        email=EmailAddress.objects.filter(user_id=resident_id, primary=True, verified=True)
        .values_list("email", flat=True)
        .first(),
        push_subscriptions=list(PushSubscription.objects.filter(resident_id=resident_id)),
        webhook=WebhookEndpoint.objects.filter(resident_id=resident_id).first(),
    )


@dataclass(frozen=True)
class Readiness:
    """Whether what the resident asked for can reach them now."""

    # Chosen channels they lack the means for (no push subscription, no gateway, no confirmed
    # address): messages go on to the next channel, or nowhere.
    without_means: list[str]
    nothing_can_be_sent: bool


def readiness_of(preference: NotificationPreference, means: Means) -> Readiness:
    """From what the page has read already (``means_of``): no query of its own."""
    usable = {
        Channel.EMAIL: means.email is not None,
        Channel.PUSH: bool(means.push_subscriptions),
        Channel.WEBHOOK: means.webhook is not None,
    }
    chosen = [channel for channel in preference.channels if channel in Channel.values]
    return Readiness(
        without_means=[str(Channel(c).label) for c in chosen if not usable[Channel(c)]],
        nothing_can_be_sent=preference.wants_something
        and not any(usable[Channel(c)] for c in chosen),
    )


# The messages a resident's export lists, newest first.
EXPORTED_DELIVERIES = 1000


def export_section(*, resident_id: int) -> dict[str, Any]:
    """What notifications store about the resident, for their export ("my data")."""
    preference = NotificationPreference.objects.filter(resident_id=resident_id).first()
    means = means_of(resident_id=resident_id)
    return {
        "preferences": {
            "channels": preference.channels,
            "warnings": preference.warnings,
            "drills": preference.drills,
            "digest": preference.digest,
            "digest_categories": preference.digest_categories,
            "quiet_from": preference.quiet_from,
            "quiet_until": preference.quiet_until,
        }
        if preference is not None
        else None,
        "push_subscriptions": [
            {"endpoint": s.endpoint, "subscribed_at": s.created_at, "last_used_at": s.last_used_at}
            for s in means.push_subscriptions
        ],
        # The signing secret is the gateway's credential, not data about the resident.
        "webhook": {"url": means.webhook.url, "added_at": means.webhook.created_at}
        if means.webhook is not None
        else None,
        "messages": [
            {
                "notice_id": delivery.notice_id,
                "digest_period": delivery.digest_period,
                "kind": delivery.kind,
                "channel": delivery.channel,
                "status": delivery.status,
                "created_at": delivery.created_at,
                "sent_at": delivery.sent_at,
            }
            for delivery in Delivery.objects.filter(resident_id=resident_id).order_by("-id")[
                :EXPORTED_DELIVERIES
            ]
        ],
    }
