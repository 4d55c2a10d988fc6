"""Daily and weekly digests: the other notices recommended to a resident, from their stored feed.

Beat starts the digests once a day at NOTIFY_DIGEST_HOUR (weekly ones on NOTIFY_DIGEST_WEEKDAY),
one range task per NOTIFY_RANGE_SIZE residents who asked for one. A resident's digest holds the
notices of their stored feed (the recommender's ranking, with its reasons still resting on what
they share: ``recommendations.selectors.explained_feed``) published since the period began, in
the categories they chose, leaving out what was already sent to them and exercises: at most
NOTIFY_DIGEST_SIZE of them, best first. No such notice, no digest.

A digest is one ``Delivery`` of kind ``digest`` for the day (unique per resident, day and
channel), sent by the same outbox as warnings; its sender checks again that the resident still
shares their data for the personalised home page and still wants the digest, and waits out
quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.infra.task_outbox import enqueue_on_commit
from portal.notifications.fanout import enqueue_sending, first_usable_channels, task_grace
from portal.notifications.models import (
    Delivery,
    DeliveryStatus,
    Digest,
    Kind,
    NotificationPreference,
)
from recommendations.selectors import explained_feed


def due_frequencies(today: date) -> list[str]:
    """Daily digests every day; weekly ones on NOTIFY_DIGEST_WEEKDAY (0 is Monday)."""
    due: list[str] = [Digest.DAILY]
    if today.weekday() == settings.NOTIFY_DIGEST_WEEKDAY:
        due.append(Digest.WEEKLY)
    return due


def digests_start(*, now: datetime | None = None) -> int:
    """Beat: one range task per NOTIFY_RANGE_SIZE residents whose digest is due today, written
    to the task outbox in one transaction. Returns the number of ranges."""
    from portal.notifications.tasks import digest_range

    now = now or timezone.now()
    ids = list(
        NotificationPreference.objects.filter(digest__in=due_frequencies(timezone.localdate(now)))
        .exclude(channels=[])
        .order_by("resident_id")
        .values_list("resident_id", flat=True)
    )
    size = settings.NOTIFY_RANGE_SIZE
    ranges = [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]
    with transaction.atomic():
        for low, high in ranges:
            enqueue_on_commit(digest_range, low=low, high=high, at=now.isoformat())
    return len(ranges)


@dataclass(frozen=True)
class DigestsDecided:
    residents: int
    queued: int


def digests_decide(*, id_range: tuple[int, int], now: datetime) -> DigestsDecided:
    """Each due resident's digest in ``id_range``, written with its sending task. Safe to run
    again: a resident has one digest per day and channel."""
    today = timezone.localdate(now)
    low, high = id_range
    preferences = list(
        NotificationPreference.objects.filter(
            resident_id__gte=low,
            resident_id__lte=high,
            digest__in=due_frequencies(today),
        ).exclude(channels=[])
    )
    channels = first_usable_channels({p.resident_id: p.channels for p in preferences})
    rows = []
    for preference in preferences:
        if preference.resident_id not in channels:
            continue
        notice_ids = digest_notices(preference, now=now)
        if notice_ids:
            rows.append(
                Delivery(
                    resident_id=preference.resident_id,
                    channel=channels[preference.resident_id],
                    kind=Kind.DIGEST,
                    digest_period=today,
                    digest_notice_ids=notice_ids,
                    next_try_at=now + task_grace(),
                )
            )
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        waiting = list(
            Delivery.objects.filter(
                kind=Kind.DIGEST,
                digest_period=today,
                resident_id__gte=low,
                resident_id__lte=high,
                status=DeliveryStatus.CREATED,
            ).values_list("id", flat=True)
        )
        enqueue_sending(waiting)
    return DigestsDecided(residents=len(preferences), queued=len(waiting))


def digest_notices(preference: NotificationPreference, *, now: datetime) -> list[int]:
    """The notices for this resident's digest, best first."""
    since = now - (timedelta(days=7) if preference.digest == Digest.WEEKLY else timedelta(days=1))
    already_sent = set(
        Delivery.objects.filter(resident_id=preference.resident_id, notice__isnull=False)
        .exclude(status=DeliveryStatus.SUPPRESSED)
        .values_list("notice_id", flat=True)
    )
    categories = set(preference.digest_categories)
    chosen: list[int] = []
    for explained in explained_feed(resident_id=preference.resident_id):
        notice = explained.item.notice
        if (
            notice.published_at is not None
            and notice.published_at >= since
            and not notice.is_exercise
            and notice.pk not in already_sent
            and (not categories or notice.category in categories)
        ):
            chosen.append(notice.pk)
        if len(chosen) == settings.NOTIFY_DIGEST_SIZE:
            break
    return chosen
