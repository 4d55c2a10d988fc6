"""Deciding who is sent what when a warning is published, updated, cancelled or lifted, and
writing that decision as outbox rows.

The worker is told of every change of a notice (``portal.notices.signals.notice_changed``).
``announcement_for`` says what the change means for notifications; ``deliveries_fan_out`` then
decides it for one range of residents' ids: it reads who asked for warnings (their
preferences), asks the consent gate what "disaster warnings for my areas" may see of their
places, and writes one ``Delivery`` per resident on their first usable channel, with the tasks
that send them, in one transaction. Ranges are independent, so a region's fan-out is shared by
every worker; a range run twice writes nothing twice (the rows are unique).

- A new warning or emergency: an **alert** to everyone who wants warnings (drills, for an
  exercise) and may be warned for one of its areas (a warning for a district reaches its
  neighbourhoods; one aimed at no area reaches everyone).
- A new version of one (a feed's update, or staff's): an **update** to everyone told of an
  earlier version, and an alert to those newly in its areas.
- A cancellation (a feed's, a staff cancellation notice, a withdrawal) or a lift by its
  source: a **cancellation** to everyone told of it. Those never told get nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import islice

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from consent import policy
from consent.catalogue import Category, PurposeCode, RecipientCode
from portal.infra.task_outbox import enqueue_many_on_commit, enqueue_on_commit
from portal.models import Area
from portal.notices.models import URGENCY_RANK, Notice, NoticeEvent, Status, Urgency
from portal.notices.models import Category as NoticeCategory
from portal.notices.selectors import AIMED_BY_AREA_ALONE
from portal.notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Kind,
    NotificationPreference,
    PushSubscription,
    WebhookEndpoint,
)

# How the gate records the read on the resident's "my data" page.
WARNINGS_READER = policy.Reader(
    kind="task",
    name=gettext_noop("warnings sent to you by email, push or messaging app"),
    recipient=RecipientCode.CITY,
)
# What a warning needs of a resident: their places (which areas they are in).
WARNINGS_PURPOSE = PurposeCode.DISASTER_WARNINGS
WARNINGS_CATEGORIES = (Category.PLACES,)


class Ending(StrEnum):
    """How a warning ended, which its cancellation message says."""

    CANCELLED = "cancelled"
    LIFTED = "lifted"


@dataclass(frozen=True)
class Announcement:
    """What one change of a notice means for notifications."""

    notice_id: int
    # The kind for those not told before (an alert), or None: only those told get anything.
    first_kind: Kind | None
    # The kind for those told of an earlier version (or of this one, for a cancellation).
    told_kind: Kind
    # The notices whose deliveries say who was told: the versions before this one.
    told_of: tuple[int, ...]
    is_exercise: bool

    @property
    def reaches_new_residents(self) -> bool:
        return self.first_kind is not None


def announcement_for(notice: Notice, change: str) -> Announcement | None:
    """What ``change`` of ``notice`` sends, or None when it sends nothing."""
    if notice.category == NoticeCategory.SCHOOL:
        return None
    if change == "published":
        earlier = versions_before(notice)
        if notice.is_cancellation:
            if not earlier:
                return None
            return Announcement(
                notice.pk,
                first_kind=None,
                told_kind=Kind.CANCELLATION,
                told_of=earlier,
                is_exercise=notice.is_exercise,
            )
        urgent = URGENCY_RANK[notice.urgency] >= URGENCY_RANK[Urgency.WARNING]
        if not urgent and not earlier:
            return None
        return Announcement(
            notice.pk,
            # A version that is no longer a warning (downgraded to an advisory) still tells
            # those warned before, but warns nobody new.
            first_kind=Kind.ALERT if urgent and _aimed_by_area_alone(notice) else None,
            told_kind=Kind.UPDATE,
            told_of=earlier,
            is_exercise=notice.is_exercise,
        )
    if _ending(notice, change) is None:
        return None
    return Announcement(
        notice.pk,
        first_kind=None,
        told_kind=Kind.CANCELLATION,
        told_of=(*versions_before(notice), notice.pk),
        is_exercise=notice.is_exercise,
    )


def versions_before(notice: Notice) -> tuple[int, ...]:
    """The notices this one supersedes, nearest first (a series has a handful)."""
    found: list[int] = []
    current = notice.supersedes_id
    while current is not None and current not in found:
        found.append(current)
        current = Notice.objects.filter(pk=current).values_list("supersedes_id", flat=True)[0]
    return tuple(found)


def _ending(notice: Notice, change: str) -> Ending | None:
    """A withdrawal (staff's, or a feed's cancellation) cancels; an expiry is an end only when
    the source lifted the warning (one running out of time ends quietly)."""
    if change == "withdrawn":
        return Ending.CANCELLED
    if change == "expired" and ending_of(notice) == Ending.LIFTED:
        return Ending.LIFTED
    return None


def ending_of(notice: Notice) -> Ending:
    """How an ended warning ended: lifted by its source, or else cancelled."""
    if notice.is_cancellation:
        return Ending.CANCELLED
    last = notice.events.order_by("-id").values_list("action", flat=True).first()
    return Ending.LIFTED if last == NoticeEvent.Action.LIFTED else Ending.CANCELLED


def _aimed_by_area_alone(notice: Notice) -> bool:
    """A warning also aimed by age, interest or school needs what the disaster warnings purpose
    does not read: like the home page's banner, a public one goes to everyone in its areas (too
    many is the safe side); one kept from the public reaches its residents through their lists."""
    return (
        notice.is_public or Notice.objects.filter(pk=notice.pk).filter(AIMED_BY_AREA_ALONE).exists()
    )


# ------------------------------------------------------------------------------------------------
# Ranges
# ------------------------------------------------------------------------------------------------


def fan_out_ranges(announcement: Announcement, *, size: int | None = None) -> list[tuple[int, int]]:
    """The id ranges of the residents who may get something from ``announcement``, about
    ``size`` (NOTIFY_RANGE_SIZE) residents each: one task each."""
    size = size or settings.NOTIFY_RANGE_SIZE
    ids = list(
        _wanting(announcement.is_exercise)
        .order_by("resident_id")
        .values_list("resident_id", flat=True)
    )
    return [(batch[0], batch[-1]) for batch in _batches(ids, size)]


def _wanting(is_exercise: bool) -> QuerySet[NotificationPreference]:
    wanted = {"drills": True} if is_exercise else {"warnings": True}
    return NotificationPreference.objects.filter(**wanted).exclude(channels=[])


# ------------------------------------------------------------------------------------------------
# One range
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FanOutResult:
    considered: int  # residents read through the gate
    queued: int


def deliveries_fan_out(
    *, announcement: Announcement, id_range: tuple[int, int], now: datetime | None = None
) -> FanOutResult:
    """Decide ``announcement`` for the residents with ids in ``id_range`` and write the outbox
    rows and their sending tasks in one transaction. Safe to run again."""
    now = now or timezone.now()
    low, high = id_range
    preferences: dict[int, list[str]] = dict(
        _wanting(announcement.is_exercise)
        .filter(resident_id__gte=low, resident_id__lte=high)
        .values_list("resident_id", "channels")
    )
    if not preferences:
        return FanOutResult(considered=0, queued=0)
    told = _told(announcement.told_of, id_range) & set(preferences)
    candidates = set(preferences) if announcement.reaches_new_residents else told
    if not candidates:
        return FanOutResult(considered=0, queued=0)
    # Read through the gate outside our own transaction: the read's log commits with it.
    shared = policy.read_profiles(
        resident_ids=candidates,
        purpose=WARNINGS_PURPOSE,
        reader=WARNINGS_READER,
        categories=WARNINGS_CATEGORIES,
    )
    reach = reach_of(announcement.notice_id)
    kinds: dict[int, Kind] = {}
    for resident_id in sorted(candidates):
        projection = shared[resident_id]
        if not projection.has(Category.PLACES):
            continue
        if resident_id in told:
            kinds[resident_id] = announcement.told_kind
        elif announcement.first_kind is not None and _in_reach(projection, reach):
            kinds[resident_id] = announcement.first_kind
    channels = first_usable_channels({r: preferences[r] for r in kinds}, id_range=id_range)
    rows = [
        (resident_id, kind, channels[resident_id])
        for resident_id, kind in kinds.items()
        if resident_id in channels
    ]
    with transaction.atomic():
        notice = Notice.objects.select_for_update().get(pk=announcement.notice_id)
        if announcement.told_kind != Kind.CANCELLATION and notice.status != Status.PUBLISHED:
            # Superseded or ended while this range waited: its successor tells everyone.
            return FanOutResult(considered=len(candidates), queued=0)
        # A range decided again hands its waiting rows out again; nothing is sent twice.
        waiting = _insert_rows(announcement.notice_id, rows, now=now)
        enqueue_sending(waiting)
    return FanOutResult(considered=len(candidates), queued=len(waiting))


def _told(notice_ids: Sequence[int], id_range: tuple[int, int]) -> set[int]:
    """The residents in ``id_range`` a delivery of one of these notices reached or is reaching."""
    if not notice_ids:
        return set()
    low, high = id_range
    return set(
        Delivery.objects.filter(
            notice_id__in=notice_ids,
            resident_id__gte=low,
            resident_id__lte=high,
            kind__in=[Kind.ALERT, Kind.UPDATE],
            status__in=[DeliveryStatus.SENT, DeliveryStatus.SENDING],
        ).values_list("resident_id", flat=True)
    )


def reach_of(notice_id: int) -> set[int] | None:
    """The areas a notice reaches (its areas and every area within them), None for everyone."""
    area_ids = list(
        Notice.areas.through.objects.filter(notice_id=notice_id).values_list("area_id", flat=True)
    )
    if not area_ids:
        return None
    return Area.objects.ids_with_descendants(area_ids)


def _in_reach(projection: policy.ProfileProjection, reach: set[int] | None) -> bool:
    return reach is None or any(place.area_id in reach for place in projection.places)


def first_usable_channels(
    chosen: dict[int, list[str]],
    *,
    after: dict[int, str] | None = None,
    id_range: tuple[int, int] | None = None,
) -> dict[int, str]:
    """Each resident's first chosen channel that can carry a message now (a verified address,
    a push subscription, a gateway), after the channel ``after`` names if given. Residents
    with none are left out. ``id_range``: the residents' ids all lie in it (a fan-out's range),
    which is read instead of a list of them."""
    if not chosen:
        return {}
    usable = usable_channels(chosen, id_range=id_range)
    found = {}
    for resident_id, order in chosen.items():
        start = 0
        if after and resident_id in after and after[resident_id] in order:
            start = order.index(after[resident_id]) + 1
        for channel in order[start:]:
            if channel in usable.get(resident_id, ()):
                found[resident_id] = channel
                break
    return found


def usable_channels(
    chosen: dict[int, list[str]], *, id_range: tuple[int, int] | None = None
) -> dict[int, set[str]]:
    """The channels each resident has the means for, among the ones they chose."""

    def of(field: str) -> Q:
        if id_range is None:
            return Q(**{f"{field}__in": list(chosen)})
        return Q(**{f"{field}__gte": id_range[0], f"{field}__lte": id_range[1]})

    having: dict[str, set[int]] = {
        Channel.EMAIL: set(
            EmailAddress.objects.filter(of("user_id"), primary=True, verified=True).values_list(
                "user_id", flat=True
            )
        ),
        Channel.PUSH: set(
            PushSubscription.objects.filter(of("resident_id")).values_list("resident_id", flat=True)
        ),
        Channel.WEBHOOK: set(
            WebhookEndpoint.objects.filter(of("resident_id")).values_list("resident_id", flat=True)
        ),
    }
    return {
        resident_id: {channel for channel in order if resident_id in having.get(channel, set())}
        for resident_id, order in chosen.items()
    }


# ------------------------------------------------------------------------------------------------
# Writing the rows
# ------------------------------------------------------------------------------------------------

_COLUMNS = (
    "resident_id",
    "notice_id",
    "channel",
    "kind",
    "status",
    "attempts",
    "last_error",
    "provider_id",
    "digest_notice_ids",
    "next_try_at",
    "created_at",
)
_INCOMING = "notifications_delivery_incoming"


def _insert_rows(
    notice_id: int, rows: Sequence[tuple[int, str, str]], *, now: datetime
) -> list[int]:
    """Insert the rows that do not exist yet (COPY on PostgreSQL); the ids of those waiting."""
    if not rows:
        return []
    due = now + task_grace()
    values = [
        (resident_id, notice_id, channel, kind, DeliveryStatus.CREATED, 0, "", "", "[]", due, now)
        for resident_id, kind, channel in rows
    ]
    table = connection.ops.quote_name(Delivery._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in _COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            incoming = connection.ops.quote_name(_INCOMING)
            # The columns' types alone: no identity, no constraints.
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {incoming} AS "
                f"SELECT {names} FROM {table} WITH NO DATA"
            )
            raw = cursor.cursor  # the psycopg cursor underneath Django's wrapper
            with raw.copy(f"COPY {incoming} ({names}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {incoming} "
                "ORDER BY resident_id ON CONFLICT DO NOTHING"
            )
            cursor.execute(f"TRUNCATE {incoming}")
        else:
            marks = ", ".join(["%s"] * len(_COLUMNS))
            at = connection.ops.adapt_datetimefield_value(now)
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING",
                [(*row[:-2], connection.ops.adapt_datetimefield_value(due), at) for row in values],
            )
    residents = [resident_id for resident_id, _kind, _channel in rows]
    return list(
        Delivery.objects.filter(
            notice_id=notice_id,
            resident_id__gte=min(residents),
            resident_id__lte=max(residents),
            status=DeliveryStatus.CREATED,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def enqueue_sending(delivery_ids: Sequence[int]) -> None:
    """The tasks that send these rows, NOTIFY_SEND_BATCH rows each, when the transaction
    commits."""
    from portal.notifications.tasks import send_deliveries

    enqueue_many_on_commit(
        send_deliveries,
        [{"delivery_ids": batch} for batch in _batches(delivery_ids, settings.NOTIFY_SEND_BATCH)],
    )


def _batches(ids: Iterable[int], size: int) -> Iterable[list[int]]:
    iterator = iter(ids)
    while batch := list(islice(iterator, size)):
        yield batch


def lease() -> timedelta:
    """How long a sender holds a row: a row still "sending" after that lost its worker."""
    return timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)


def task_grace() -> timedelta:
    """How long a waiting row's task may take to come before the sweep hands the row out
    again (the broker may have lost it)."""
    return timedelta(seconds=settings.NOTIFY_TASK_GRACE_SECONDS)


# ------------------------------------------------------------------------------------------------
# The tasks' entry points
# ------------------------------------------------------------------------------------------------


def fan_out_start(*, notice_id: int, change: str) -> int:
    """What ``change`` of the notice sends, split into range tasks written to the task outbox in
    one transaction (so that a broker away loses none of them). Returns the number of ranges."""
    from portal.notifications.tasks import fan_out_range

    notice = Notice.objects.filter(pk=notice_id).first()
    announcement = announcement_for(notice, change) if notice is not None else None
    if announcement is None or not _may_send(announcement):
        return 0
    ranges = fan_out_ranges(announcement)
    with transaction.atomic():
        for low, high in ranges:
            enqueue_on_commit(fan_out_range, notice_id=notice_id, change=change, low=low, high=high)
    return len(ranges)


def _may_send(announcement: Announcement) -> bool:
    """Whether anyone may be sent anything: an update or cancellation of a notice nobody was
    told of (a news item's new version, say) sends nothing, and needs no range tasks."""
    return announcement.reaches_new_residents or (
        Delivery.objects.filter(
            notice_id__in=announcement.told_of, kind__in=[Kind.ALERT, Kind.UPDATE]
        ).exists()
    )


def fan_out_range_decide(*, notice_id: int, change: str, id_range: tuple[int, int]) -> int:
    notice = Notice.objects.filter(pk=notice_id).first()
    announcement = announcement_for(notice, change) if notice is not None else None
    if announcement is None:
        return 0
    return deliveries_fan_out(announcement=announcement, id_range=id_range).queued
