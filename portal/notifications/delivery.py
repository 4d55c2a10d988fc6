"""Sending the outbox: each row sent once, and only while it is still allowed and wanted.

``deliveries_send`` takes a batch of rows:

1. **Claims** the waiting ones under a row lock (``created`` → ``sending``, a lease of
   ``LEASE``); rows another worker holds, or already sent, are skipped. A task run twice, or
   redelivered after its worker was killed, finds nothing left to claim.
2. **Checks again** what the fan-out decided, now: the consent gate still lets "disaster
   warnings for my areas" use the resident's places, they still want warnings (drills) on this
   channel, the warning is still in force and still reaches one of their places. What fails
   is ``suppressed`` and never sent. Drills and digests wait out quiet hours; warnings do not.
3. **Sends** on the row's channel, one connection per batch, with the row's own Message-ID.
4. **Records** the outcome: ``sent``; or, when the channel failed, the resident's next usable
   channel gets a row of its own at once (a warning should not wait for retries), else the row
   is tried again after 30 s, 1, 2, 4 … minutes, ``failed`` after ``MAX_ATTEMPTS``.

A worker killed between sending and recording leaves its rows ``sending``; the sweep
(``deliveries_sweep``, beat) hands them out again once their lease has run out. Such a message
may then arrive twice, with the same Message-ID, so that mail clients show it once.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from consent import policy
from consent.catalogue import Category, PurposeCode, RecipientCode
from portal.notices.models import Notice
from portal.notices.selectors import published_notices
from portal.notifications.channels import Gone, Outcome, Retry, Sent, described, sender_for
from portal.notifications.fanout import (
    WARNINGS_PURPOSE,
    WARNINGS_READER,
    ending_of,
    enqueue_sending,
    first_usable_channels,
    lease,
    reach_of,
    task_grace,
)
from portal.notifications.messages import Message, compose_digest, compose_warning
from portal.notifications.models import (
    PENDING,
    WARNING_KINDS,
    Delivery,
    DeliveryStatus,
    Digest,
    Kind,
    NotificationPreference,
)
from recommendations.selectors import explained_feed

logger = logging.getLogger(__name__)

# Tries of one row on one channel before it is given up (failed).
MAX_ATTEMPTS = 7
FIRST_RETRY = timedelta(seconds=30)
# What a warning's message reads of the resident: their places (still in its areas?) and their
# language (the message's).
SEND_CATEGORIES = (Category.PLACES, Category.LANGUAGE)
# A digest's notices come from the feed ranked for the personalised home page; its language is
# what the resident shares for it.
DIGEST_PURPOSE = PurposeCode.PERSONALISED_HOME
DIGEST_READER = policy.Reader(
    kind="task",
    name=gettext_noop("the digest of notices sent to you"),
    recipient=RecipientCode.CITY,
)


# How a batch knows its time: the monotonic clock (tests put another in its place).
_clock = time.monotonic


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failed try, doubling: 1, 2, 4, 8, 16 minutes."""
    return FIRST_RETRY * int(2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class SendResult:
    claimed: int = 0
    sent: int = 0
    suppressed: int = 0
    retried: int = 0
    failed: int = 0
    postponed: int = 0
    handed_back: int = 0


def deliveries_send(*, delivery_ids: Sequence[int], now: datetime | None = None) -> SendResult:
    now = now or timezone.now()
    rows = _claim(delivery_ids, now=now)
    if not rows:
        return SendResult()
    verdicts = _verdicts(rows, now=now)
    counts: dict[str, int] = defaultdict(int)
    by_channel: dict[str, list[tuple[Delivery, _Go]]] = defaultdict(list)
    for row in rows:
        verdict = verdicts[row.pk]
        if isinstance(verdict, _Suppress):
            _finish(row, DeliveryStatus.SUPPRESSED, error=verdict.reason)
            counts["suppressed"] += 1
        elif isinstance(verdict, _Wait):
            _postpone(row, until=verdict.until)
            counts["postponed"] += 1
        else:
            by_channel[row.channel].append((row, verdict))
    # Slow channels (a gateway timing out on every message) must not outlast the lease, or the
    # sweep would take the rows for lost and send them again: past half of it, the rest of the
    # batch is handed back to be sent by a task of its own.
    deadline = _clock() + lease().total_seconds() / 2
    for channel, batch in by_channel.items():
        with sender_for(channel) as sender:
            sender.prepare([row for row, _go in batch])
            for position, (row, go) in enumerate(batch):
                if _clock() > deadline:
                    counts["handed_back"] += _hand_back([r for r, _go in batch[position:]])
                    break
                if not _ours(row).exists():
                    # Suppressed since the batch began (a withdrawal), or taken for lost.
                    counts["suppressed"] += 1
                    continue
                try:
                    outcome: Outcome = sender.send(row, go.message(row))
                except Exception as error:  # one message's bug must not strand the batch
                    logger.exception("Delivery #%s: the %s sender failed", row.pk, channel)
                    outcome = Retry(described(error))
                counts[_record(row, outcome, now=now)] += 1
    return SendResult(claimed=len(rows), **counts)


def _hand_back(rows: list[Delivery]) -> int:
    """Rows claimed but not tried: waiting again, untried, with a task of their own."""
    with transaction.atomic():
        returned = [row.pk for row in rows if _ours(row).update(
            status=DeliveryStatus.CREATED,
            attempts=F("attempts") - 1,
            next_try_at=timezone.now() + task_grace(),
            claim=None,
        )]  # fmt: skip
        enqueue_sending(returned)
    return len(returned)


# ------------------------------------------------------------------------------------------------
# Claiming
# ------------------------------------------------------------------------------------------------


def _claim(delivery_ids: Sequence[int], *, now: datetime) -> list[Delivery]:
    """Lock and take the rows that wait and are due; skip what another worker holds."""
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(delivery_ids), status=DeliveryStatus.CREATED)
            .order_by("id")
        )
        if not rows:
            return []
        claim = uuid.uuid4()
        Delivery.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=DeliveryStatus.SENDING,
            attempts=F("attempts") + 1,
            next_try_at=now + lease(),
            claim=claim,
        )
    for row in rows:
        row.status = DeliveryStatus.SENDING
        row.attempts += 1
        row.claim = claim
    return rows


def _ours(row: Delivery) -> QuerySet[Delivery]:
    """The row while this claim still holds it: every write of a sender goes through it, so
    that a sender that outlived its lease, or a row suppressed meanwhile, changes nothing."""
    return Delivery.objects.filter(pk=row.pk, status=DeliveryStatus.SENDING, claim=row.claim)


# ------------------------------------------------------------------------------------------------
# Checking again, at send time
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Go:
    language: str
    notice: Notice | None = None  # a warning's
    ending: str = ""
    notices: tuple[Notice, ...] = ()  # a digest's

    def message(self, row: Delivery) -> Message:
        if self.notice is not None:
            return compose_warning(row, self.notice, language=self.language, ending=self.ending)
        return compose_digest(row, self.notices, language=self.language)


@dataclass(frozen=True)
class _Suppress:
    reason: str


@dataclass(frozen=True)
class _Wait:
    until: datetime


_Verdict = _Go | _Suppress | _Wait


def _verdicts(rows: list[Delivery], *, now: datetime) -> dict[int, _Verdict]:
    preferences = {
        preference.resident_id: preference
        for preference in NotificationPreference.objects.filter(
            resident_id__in={row.resident_id for row in rows}
        )
    }
    verdicts: dict[int, _Verdict] = {}
    warnings = [row for row in rows if row.kind in WARNING_KINDS]
    digests = [row for row in rows if row.kind == Kind.DIGEST]
    if warnings:
        verdicts.update(_warning_verdicts(warnings, preferences, now=now))
    if digests:
        verdicts.update(_digest_verdicts(digests, preferences, now=now))
    return verdicts


def _warning_verdicts(
    rows: list[Delivery], preferences: dict[int, NotificationPreference], *, now: datetime
) -> dict[int, _Verdict]:
    shared = policy.read_profiles(
        resident_ids={row.resident_id for row in rows},
        purpose=WARNINGS_PURPOSE,
        reader=WARNINGS_READER,
        categories=SEND_CATEGORIES,
    )
    notices = Notice.objects.in_bulk({row.notice_id for row in rows if row.notice_id})
    in_force = set(
        published_notices(now=now).filter(pk__in=list(notices)).values_list("pk", flat=True)
    ) | set(
        # Exercises are never shown as real, but a drill in force is sent to those who want it.
        Notice.objects.filter(pk__in=list(notices), is_exercise=True, status="published")
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("pk", flat=True)
    )
    reaches = {notice_id: reach_of(notice_id) for notice_id in notices}
    # How each cancelled warning ended, once per notice (a batch is one warning's rows).
    endings = {
        notice_id: ending_of(notices[notice_id])
        for notice_id in {row.notice_id for row in rows if row.kind == Kind.CANCELLATION}
        if notice_id in notices
    }
    return {
        row.pk: _verdict(
            row,
            preference=preferences.get(row.resident_id),
            shared=shared[row.resident_id],
            notice=notices.get(row.notice_id or 0),
            in_force=in_force,
            reach=reaches.get(row.notice_id or 0),
            ending=endings.get(row.notice_id or 0, "") if row.kind == Kind.CANCELLATION else "",
            now=now,
        )
        for row in rows
    }


def _digest_verdicts(
    rows: list[Delivery], preferences: dict[int, NotificationPreference], *, now: datetime
) -> dict[int, _Verdict]:
    """A digest goes only while the resident shares data for their personalised home page (its
    notices come from the feed ranked with it) and still wants it; without the notices that
    ended since it was decided."""
    residents = {row.resident_id for row in rows}
    sharing = policy.allowed_categories_bulk(
        resident_ids=residents, purpose=DIGEST_PURPOSE, recipient=RecipientCode.CITY, now=now
    )
    languages = policy.read_profiles(
        resident_ids=[r for r in residents if Category.LANGUAGE in sharing.get(r, ())],
        purpose=DIGEST_PURPOSE,
        reader=DIGEST_READER,
        categories=(Category.LANGUAGE,),
    )
    live = published_notices(now=now).in_bulk(
        {notice_id for row in rows for notice_id in row.digest_notice_ids}
    )
    verdicts: dict[int, _Verdict] = {}
    for row in rows:
        preference = preferences.get(row.resident_id)
        # Only what their feed still holds for reasons resting on what they share now: a
        # notice chosen for their places is not sent once they stop sharing their places.
        still = _still_recommended(row.resident_id) if sharing.get(row.resident_id) else set()
        notices = tuple(live[n] for n in row.digest_notice_ids if n in live and n in still)
        if preference is None or row.channel not in preference.channels:
            verdicts[row.pk] = _Suppress(gettext_noop("the resident turned this channel off"))
        elif preference.digest == Digest.OFF:
            verdicts[row.pk] = _Suppress(gettext_noop("the resident turned the digest off"))
        elif not sharing.get(row.resident_id):
            verdicts[row.pk] = _Suppress(
                gettext_noop("consent for the personalised home page withdrawn")
            )
        elif not notices:
            verdicts[row.pk] = _Suppress(
                gettext_noop("its notices ended, or are no longer recommended, before it was sent")
            )
        elif preference.is_quiet_at(timezone.localtime(now).time()):
            verdicts[row.pk] = _Wait(until=_quiet_hours_end(preference, now))
        else:
            projection = languages.get(row.resident_id)
            language = (projection.preferred_language if projection else None) or ""
            verdicts[row.pk] = _Go(language=language, notices=notices)
    return verdicts


def _still_recommended(resident_id: int) -> set[int]:
    return {explained.item.notice_id for explained in explained_feed(resident_id=resident_id)}


def _verdict(
    row: Delivery,
    *,
    preference: NotificationPreference | None,
    shared: policy.ProfileProjection,
    notice: Notice | None,
    in_force: set[int],
    reach: set[int] | None,
    ending: str,
    now: datetime,
) -> _Verdict:
    if row.kind not in WARNING_KINDS or notice is None:
        return _Suppress(gettext_noop("nothing to send"))
    if preference is None or row.channel not in preference.channels:
        return _Suppress(gettext_noop("the resident turned this channel off"))
    wanted = preference.drills if notice.is_exercise else preference.warnings
    if not wanted:
        return _Suppress(gettext_noop("the resident turned these notifications off"))
    if not shared.has(Category.PLACES):
        return _Suppress(gettext_noop("consent no longer covers the resident's places"))
    if row.kind != Kind.CANCELLATION and notice.pk not in in_force:
        return _Suppress(gettext_noop("the warning is no longer in force"))
    if (
        row.kind == Kind.ALERT
        and reach is not None
        and not any(place.area_id in reach for place in shared.places)
    ):
        return _Suppress(gettext_noop("the resident has no place in the warning's areas any more"))
    if notice.is_exercise and preference.is_quiet_at(timezone.localtime(now).time()):
        return _Wait(until=_quiet_hours_end(preference, now))
    return _Go(language=shared.preferred_language or "", notice=notice, ending=ending)


def _quiet_hours_end(preference: NotificationPreference, now: datetime) -> datetime:
    local = timezone.localtime(now)
    assert preference.quiet_until is not None
    end = local.replace(
        hour=preference.quiet_until.hour,
        minute=preference.quiet_until.minute,
        second=0,
        microsecond=0,
    )
    return end if end > local else end + timedelta(days=1)


# ------------------------------------------------------------------------------------------------
# Recording
# ------------------------------------------------------------------------------------------------


def _record(row: Delivery, outcome: Outcome, *, now: datetime) -> str:
    if isinstance(outcome, Sent):
        _finish(row, DeliveryStatus.SENT, provider_id=outcome.provider_id, sent_at=timezone.now())
        return "sent"
    error = outcome.error
    with transaction.atomic():
        # A warning should not wait for retries: any failure tries the next channel at once. A
        # digest tries again where it is, unless the channel is gone for good.
        at_once = row.kind in WARNING_KINDS or isinstance(outcome, Gone)
        fallback = _fall_back(row) if at_once else None
        if fallback is not None:
            # The next channel has it (made now, or by an earlier try of this row).
            _finish(row, DeliveryStatus.FAILED, error=f"{error} (sent by {fallback.channel})")
            if fallback.status == DeliveryStatus.CREATED:
                enqueue_sending([fallback.pk])
            return "failed"
        if isinstance(outcome, Retry) and row.attempts < MAX_ATTEMPTS:
            _ours(row).update(
                status=DeliveryStatus.CREATED,
                last_error=error[:500],
                next_try_at=now + retry_delay(row.attempts),
                claim=None,
            )
            return "retried"
        _finish(row, DeliveryStatus.FAILED, error=error)
        logger.warning(
            "Delivery #%s (%s, %s) failed after %s tries: %s",
            row.pk, row.kind, row.channel, row.attempts, error,
        )  # fmt: skip
        return "failed"


def _fall_back(row: Delivery) -> Delivery | None:
    """The same message on the resident's next usable channel, if they have one (made once:
    a row tried again finds the one made before)."""
    preference = NotificationPreference.objects.filter(resident_id=row.resident_id).first()
    if preference is None:
        return None
    nxt = first_usable_channels(
        {row.resident_id: preference.channels}, after={row.resident_id: row.channel}
    )
    if row.resident_id not in nxt:
        return None
    # The same unique key as the row it takes over from, on another channel.
    key = (
        {"digest_period": row.digest_period}
        if row.kind == Kind.DIGEST
        else {"notice_id": row.notice_id}
    )
    fallback, _created = Delivery.objects.get_or_create(
        resident_id=row.resident_id,
        channel=nxt[row.resident_id],
        kind=row.kind,
        **key,
        defaults={
            "next_try_at": timezone.now() + task_grace(),
            "fallback_of": row,
            "digest_notice_ids": row.digest_notice_ids,
        },
    )
    return fallback


def _finish(row: Delivery, status: str, *, error: str = "", **fields: object) -> None:
    _ours(row).update(status=status, last_error=error[:500], **fields)


def _postpone(row: Delivery, *, until: datetime) -> None:
    # Waiting out quiet hours is not a failed try.
    _ours(row).update(
        status=DeliveryStatus.CREATED, attempts=F("attempts") - 1, next_try_at=until, claim=None
    )


# ------------------------------------------------------------------------------------------------
# The sweep
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Swept:
    requeued: int
    given_up: int


def deliveries_sweep(*, now: datetime | None = None, limit: int = 10_000) -> Swept:
    """Beat: rows due a retry, rows whose task never came (the broker lost it) and rows whose
    sender's lease ran out (its worker died) are handed out again; a row that has used up its
    tries is failed."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(
                status__in=[DeliveryStatus.CREATED, DeliveryStatus.SENDING], next_try_at__lte=now
            )
            .order_by("next_try_at", "id")
            .values_list("id", "attempts")[:limit]
        )
        exhausted = [pk for pk, attempts in due if attempts >= MAX_ATTEMPTS]
        again = [pk for pk, attempts in due if attempts < MAX_ATTEMPTS]
        Delivery.objects.filter(pk__in=exhausted).update(
            status=DeliveryStatus.FAILED, last_error="no answer after the last try"
        )
        Delivery.objects.filter(pk__in=again).update(
            status=DeliveryStatus.CREATED, next_try_at=now + task_grace(), claim=None
        )
        enqueue_sending(again)
    if due:
        logger.info("Delivery sweep: %s handed out again, %s given up", len(again), len(exhausted))
    return Swept(requeued=len(again), given_up=len(exhausted))


def deliveries_suppress(*, resident_id: int, kinds: Sequence[str], reason: str) -> int:
    """Rows of these kinds for this resident not sent yet are not sent (a withdrawal, inside
    its transaction): those waiting, and those of a batch being sent, whose sender looks at
    each row just before sending it."""
    return Delivery.objects.filter(
        resident_id=resident_id, status__in=PENDING, kind__in=list(kinds)
    ).update(status=DeliveryStatus.SUPPRESSED, last_error=reason, claim=None)


def deliveries_prune(*, now: datetime | None = None, batch: int = 10_000) -> int:
    """Rows older than NOTIFY_DELIVERY_RETENTION_DAYS that are done (sent, failed, suppressed)
    are deleted, a batch at a time; what is still pending is left to be sent."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.NOTIFY_DELIVERY_RETENTION_DAYS)
    deleted = 0
    while True:
        old = list(
            Delivery.objects.filter(created_at__lt=cutoff)
            .exclude(status__in=PENDING)
            .values_list("id", flat=True)[:batch]
        )
        if not old:
            return deleted
        # A row another took over from points at it: the pointer goes, not the row.
        Delivery.objects.filter(fallback_of_id__in=old).update(fallback_of=None)
        deleted += Delivery.objects.filter(pk__in=old).delete()[0]
