"""Writes of the recommender: each resident's stored feed, rescored by resident id range.

A range is read through the consent gate chunk by chunk; each chunk's feeds replace, in one
transaction, every stored feed of the ids the chunk covers (so a resident who stopped sharing
everything loses their feed in the same pass). PostgreSQL takes the rows by COPY.

A published notice is fanned out the same way, range by range, into narrow ``FeedAddition``
rows rather than rewritten feeds; the next rescore takes them in.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Count, Max
from django.utils import timezone

from consent.catalogue import PurposeCode
from consent.selectors import consent_changed_since, resident_id_ranges
from portal.models import Area, User
from recommendations.features import (
    Vocabulary,
    active_notices,
    notice_side,
    notice_text,
    popularity_scale,
    resident_chunks,
    resident_side,
)
from recommendations.models import (
    FEED_SIZE,
    FeedAddition,
    ModelVersion,
    NoticeEngagement,
    StoredFeed,
)
from recommendations.scoring import (
    PRIOR_WEIGHTS,
    Explained,
    Notices,
    Ranked,
    Residents,
    eligibility,
    explain,
    rank,
    score_matrix,
    take_rows,
    weight_vector,
)
from recommendations.text import TextModel

CANDIDATES = 60  # re-ranked for diversity
DIVERSITY = 0.15  # taken off a notice's score for each notice of its category above it
CHUNK_SIZE = 5000
# The cutoff of a feed with room left: every eligible notice enters.
NOT_FULL = -1e9
FEED_COLUMNS = ("resident_id", "entries", "cutoff", "model_version_id", "computed_at")
ADDITION_COLUMNS = (
    "resident_id",
    "notice_id",
    "score",
    "reasons",
    "reason_area_id",
    "reason_interest_id",
    "reason_school_id",
    "model_version_id",
    "added_at",
)
# The parallel lists of a stored feed's entries, and the column of the chunk each comes from.
ENTRY_LISTS = {
    "notice": "notice_id",
    "score": "score",
    "reasons": "reasons",
    "area": "reason_area_id",
    "interest": "reason_interest_id",
    "school": "reason_school_id",
}


@dataclass(frozen=True)
class ActiveModel:
    version_id: int | None
    weights: dict[str, float]
    bias: float
    text_model: TextModel


@dataclass(frozen=True)
class Rescored:
    residents: int
    entries: int


def active_model(*, notice_texts: list[str]) -> ActiveModel:
    """The promoted model version, or the prior with a text model of today's notices."""
    version = ModelVersion.objects.filter(is_active=True).first()
    if version is not None and version.text_model:
        # Our own worker pickled it into our own database: not input from outside.
        text_model = pickle.loads(bytes(version.text_model))  # noqa: S301
        return ActiveModel(version.pk, dict(version.weights), version.bias, text_model)
    return ActiveModel(None, dict(PRIOR_WEIGHTS), 0.0, TextModel.fit(notice_texts))


@dataclass(frozen=True)
class ScoringContext:
    """What every chunk of a rescore shares: the model and the notices' side."""

    model: ActiveModel
    vocabulary: Vocabulary
    side: Notices
    weights: np.ndarray


# One per process, rebuilt when the notices, the model or the minute change: rescoring one
# resident (a consent change) then costs their own read and one product, not a text model's
# fit over every notice.
_context: dict[tuple[Any, ...], ScoringContext] = {}


def scoring_context(*, now: datetime) -> ScoringContext:
    key = _context_key(now)
    cached = _context.get(key)
    if cached is not None:
        return cached
    notices = list(active_notices(now=now))
    model = active_model(
        notice_texts=[notice_text(n.title_ja, n.body_ja, n.title_en, n.body_en) for n in notices]
    )
    vocabulary = Vocabulary.load()
    popularity, unseen_popularity = popularity_scale(engagement_counts())
    side = notice_side(
        notices,
        vocabulary=vocabulary,
        text_model=model.text_model,
        popularity=popularity,
        now=now,
        unseen_popularity=unseen_popularity,
    )
    context = ScoringContext(model, vocabulary, side, weight_vector(model.weights))
    _context.clear()
    _context[key] = context
    return context


def _context_key(now: datetime) -> tuple[Any, ...]:
    """What a context depends on, in three small queries: the minute (recency), the active
    notices (how many, the newest id, the latest change), the areas, the active model."""
    notices = active_notices(now=now).aggregate(
        count=Count("pk"), newest=Max("pk"), changed=Max("updated_at")
    )
    areas = Area.objects.aggregate(count=Count("pk"), newest=Max("pk"))
    model = ModelVersion.objects.filter(is_active=True).values_list("pk", flat=True).first()
    minute = now.replace(second=0, microsecond=0)
    return (minute, *notices.values(), *areas.values(), model)


def feeds_rescore(
    *, id_range: tuple[int, int], now: datetime | None = None, chunk_size: int = CHUNK_SIZE
) -> Rescored:
    """Rescore every resident with an id in ``id_range`` (both ends included)."""
    now = now or timezone.now()
    context = scoring_context(now=now)
    low, high = id_range
    residents = entries = 0
    covered_from = low
    read_since = timezone.now()
    for chunk in resident_chunks(id_range=id_range, chunk_size=chunk_size):
        people = resident_side(
            chunk,
            notices=context.side,
            vocabulary=context.vocabulary,
            text_model=context.model.text_model,
        )
        feed = _feed_columns(
            people, context.side, context.weights, context.model, context.vocabulary, now=now
        )
        # This chunk's feeds replace those of every id from the last chunk's end to its own.
        covered_to = chunk.resident_ids[-1]
        _replace_feeds((covered_from, covered_to), feed, computed_at=now, read_since=read_since)
        covered_from = covered_to + 1
        residents += len(people)
        entries += len(feed)
        read_since = timezone.now()
    if covered_from <= high:
        _replace_feeds((covered_from, high), None, computed_at=now, read_since=read_since)
    return Rescored(residents=residents, entries=entries)


@dataclass(frozen=True)
class FeedColumns:
    """A chunk's chosen entries as columns of equal length, sorted by resident then position."""

    values: dict[str, np.ndarray]
    model_version_id: int
    computed_at: datetime

    def __len__(self) -> int:
        return len(self.values["resident_id"])

    def feeds(self) -> list[tuple[Any, ...]]:
        """One row per resident: (resident id, entries as JSON text, cutoff, version, time)."""
        residents = self.values["resident_id"]
        if not len(residents):
            return []
        starts = np.flatnonzero(np.r_[True, residents[1:] != residents[:-1]])
        ends = np.r_[starts[1:], len(residents)]
        lists = {
            key: np.round(self.values[column], 4).tolist()
            if column == "score"
            else self.values[column].tolist()
            for key, column in ENTRY_LISTS.items()
        }
        scores = lists["score"]
        return [
            (
                int(residents[start]),
                json.dumps({key: values[start:end] for key, values in lists.items()}),
                _cutoff(scores[start:end]),
                self.model_version_id,
                self.computed_at,
            )
            for start, end in zip(starts.tolist(), ends.tolist(), strict=True)
        ]


def _feed_columns(
    people: Residents,
    side: Notices,
    weights: np.ndarray,
    model: ActiveModel,
    vocabulary: Vocabulary,
    *,
    now: datetime,
) -> FeedColumns:
    ranked: Ranked = rank(
        score_matrix(people, side, weights, model.bias),
        eligibility(people, side),
        side.categories,
        slots=FEED_SIZE,
        candidates=CANDIDATES,
        diversity=DIVERSITY,
    )
    resident_rows, slots = np.nonzero(ranked.notice_rows >= 0)
    notice_rows = ranked.notice_rows[resident_rows, slots]
    why: Explained = explain(people, side, resident_rows, notice_rows, weights)
    ids = vocabulary.ids_by_column()
    return FeedColumns(
        values={
            "resident_id": people.ids[resident_rows],
            "notice_id": side.ids[notice_rows],
            "position": slots.astype(np.int64),
            "score": ranked.scores[resident_rows, slots].astype(np.float64),
            "reasons": why.masks,
            "reason_area_id": _ids_of(why.area_columns, ids["area"]),
            "reason_interest_id": _ids_of(why.interest_columns, ids["interest"]),
            "reason_school_id": _ids_of(why.audience_columns, ids["school"]),
        },
        model_version_id=model.version_id or 0,
        computed_at=now,
    )


def _ids_of(columns: np.ndarray, by_column: dict[int, int]) -> np.ndarray:
    """Vocabulary columns (-1: none) to the ids they stand for (0: none), as one gather."""
    lookup = np.zeros(max(by_column, default=-1) + 2, dtype=np.int64)
    for column, pk in by_column.items():
        lookup[column + 1] = pk
    return np.asarray(lookup[np.minimum(columns + 1, len(lookup) - 1)], dtype=np.int64)


def _replace_feeds(
    id_range: tuple[int, int],
    feed: FeedColumns | None,
    *,
    computed_at: datetime,
    read_since: datetime,
) -> None:
    """Replace the stored feeds of the ids in ``id_range`` with ``feed``'s, in one transaction;
    the fan-outs' additions they now rank themselves go too. Rows of residents whose consent
    changed since the read began, or whose account is gone, are not written (see ``_current``).
    """
    low, high = id_range
    with transaction.atomic():
        _derived_data_commit()
        rows = _current(feed.feeds() if feed is not None else [], id_range, read_since)
        StoredFeed.objects.filter(resident_id__gte=low, resident_id__lte=high).delete()
        FeedAddition.objects.filter(
            resident_id__gte=low, resident_id__lte=high, added_at__lte=computed_at
        ).delete()
        if rows:
            _bulk_write(StoredFeed, FEED_COLUMNS, rows)


def _current(
    rows: list[tuple[Any, ...]], id_range: tuple[int, int], read_since: datetime
) -> list[tuple[Any, ...]]:
    """The rows (resident id first) still theirs to write: a withdrawal committed after the
    chunk was read deleted the resident's feed and queued a rescore that may already have run,
    and a deleted account must leave no derived rows (there is no database foreign key). Two
    range queries per chunk; the resident's own rescore writes what is left out."""
    if not rows:
        return rows
    low, high = id_range
    existing = set(User.objects.filter(pk__gte=low, pk__lte=high).values_list("pk", flat=True))
    changed = consent_changed_since(
        purpose_code=PurposeCode.PERSONALISED_HOME, id_range=id_range, since=read_since
    )
    return [row for row in rows if row[0] in existing and row[0] not in changed]


def _derived_data_commit() -> None:
    """Feeds are derived: a crash may lose the last moment's rescore, which the next one
    redoes, so the commit need not wait for the disk (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _bulk_write(
    model: type[models.Model], columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """COPY on PostgreSQL; elsewhere (SQLite in development) one prepared INSERT over every
    row. The last column of every row is a time."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor underneath Django's wrapper
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        at = connection.ops.adapt_datetimefield_value(rows[0][-1])
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})", [(*row[:-1], at) for row in rows]
        )


# ------------------------------------------------------------------------------------------------
# Fan-out of one notice
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FannedOut:
    residents_read: int
    feeds_entered: int


def sharing_ranges(*, size: int | None = None) -> list[tuple[int, int]]:
    """The id ranges of everyone who shares anything for the home page, what a rescore of
    everyone and a fan-out cover, ``RECOMMENDER_RANGE_SIZE`` residents each."""
    return resident_id_ranges(
        purpose=PurposeCode.PERSONALISED_HOME, size=size or settings.RECOMMENDER_RANGE_SIZE
    )


def feeds_fan_out(
    *, notice_id: int, id_range: tuple[int, int] | None = None, now: datetime | None = None
) -> FannedOut:
    """Score one newly published (or updated) notice against every resident with an id in
    ``id_range`` (everyone, if not given) who shares anything for the home page, chunk by chunk,
    and add it to each feed where it ranks among the best ``FEED_SIZE``, with its reasons.

    Idempotent: each chunk first deletes what an earlier run added for this notice. A notice
    that is no longer active (withdrawn, expired, superseded) needs nothing here: the feeds'
    reader drops it at once. Diversity is applied by the periodic rescore, not here.
    """
    now = now or timezone.now()
    context = scoring_context(now=now)
    rows = np.flatnonzero(context.side.ids == notice_id)
    if not len(rows):
        return FannedOut(residents_read=0, feeds_entered=0)
    row = int(rows[0])
    one = take_rows(context.side, [row])
    read = entered = 0
    for low, high in [id_range] if id_range is not None else sharing_ranges():
        covered_from = low
        read_since = timezone.now()
        for chunk in resident_chunks(id_range=(low, high), chunk_size=CHUNK_SIZE):
            people = resident_side(
                chunk,
                notices=context.side,
                vocabulary=context.vocabulary,
                text_model=context.model.text_model,
            )
            people = replace(
                people,
                dismissed=people.dismissed[:, [row]],
                engaged=people.engaged[:, [row]] if people.engaged is not None else None,
            )
            covered_to = chunk.resident_ids[-1]
            additions = _additions(people, one, context, now=now)
            _replace_additions(
                notice_id, (covered_from, covered_to), additions, read_since=read_since
            )
            covered_from = covered_to + 1
            read += len(people)
            entered += len(additions)
            read_since = timezone.now()
        if covered_from <= high:
            _replace_additions(notice_id, (covered_from, high), [], read_since=read_since)
    return FannedOut(residents_read=read, feeds_entered=entered)


def _additions(
    people: Residents, one: Notices, context: ScoringContext, *, now: datetime
) -> list[tuple[Any, ...]]:
    """The chunk's residents whose feed the notice enters: eligible, and scoring above their
    stored feed's lowest entry (any score, where the feed has room or there is none yet)."""
    concerned = np.flatnonzero(eligibility(people, one)[:, 0])
    if not len(concerned):
        return []
    scores = score_matrix(people, one, context.weights, context.model.bias)[concerned, 0]
    ids = people.ids[concerned]
    cutoffs = _cutoffs((int(people.ids[0]), int(people.ids[-1])))
    lowest = np.asarray([cutoffs.get(int(pk), NOT_FULL) for pk in ids], dtype=np.float64)
    enters = np.flatnonzero(scores > lowest)
    if not len(enters):
        return []
    chosen = concerned[enters]
    why = explain(people, one, chosen, np.zeros(len(chosen), dtype=np.int64), context.weights)
    by_column = context.vocabulary.ids_by_column()
    columns = zip(
        people.ids[chosen].tolist(),
        np.round(scores[enters], 4).tolist(),
        why.masks.tolist(),
        _ids_of(why.area_columns, by_column["area"]).tolist(),
        _ids_of(why.interest_columns, by_column["interest"]).tolist(),
        _ids_of(why.audience_columns, by_column["school"]).tolist(),
        strict=True,
    )
    notice_id = int(one.ids[0])
    version = context.model.version_id or 0
    return [
        (resident, notice_id, score, reasons, area, interest, school, version, now)
        for resident, score, reasons, area, interest, school in columns
    ]


def _cutoffs(id_range: tuple[int, int]) -> dict[int, float]:
    """Each stored feed's lowest score, for the ids of a range (one range scan)."""
    low, high = id_range
    return dict(
        StoredFeed.objects.filter(resident_id__gte=low, resident_id__lte=high).values_list(
            "resident_id", "cutoff"
        )
    )


def _replace_additions(
    notice_id: int, id_range: tuple[int, int], rows: list[tuple[Any, ...]], *, read_since: datetime
) -> None:
    low, high = id_range
    with transaction.atomic():
        _derived_data_commit()
        rows = _current(rows, id_range, read_since)
        FeedAddition.objects.filter(
            notice_id=notice_id, resident_id__gte=low, resident_id__lte=high
        ).delete()
        if rows:
            _bulk_write(FeedAddition, ADDITION_COLUMNS, rows)


def _cutoff(scores: list[float]) -> float:
    """The score a notice must beat to enter: the lowest of a full feed; any, if not full."""
    return scores[-1] if len(scores) >= FEED_SIZE else NOT_FULL


def rescore_ranges(*, size: int | None = None) -> list[tuple[int, int]]:
    """The id ranges a rescore of everyone covers (residents who share anything for the
    personalised home page, ``RECOMMENDER_RANGE_SIZE`` each); stored feeds of residents outside
    them (who stopped sharing everything) are dropped at once."""
    ranges = sharing_ranges(size=size)
    for model in (StoredFeed, FeedAddition):
        outside = model.objects.all()
        if ranges:
            outside = outside.exclude(resident_id__gte=ranges[0][0], resident_id__lte=ranges[-1][1])
        outside.delete()
    return ranges


def engagement_counts() -> dict[int, tuple[float, float]]:
    """Each notice's anonymous (shown, opened + 2 × saved): saving says more than opening."""
    return {
        notice_id: (float(shown), opened + 2.0 * saved)
        for notice_id, shown, opened, saved in NoticeEngagement.objects.values_list(
            "notice_id", "shown", "opened", "saved"
        )
    }


# ------------------------------------------------------------------------------------------------
# What residents do with their feed
# ------------------------------------------------------------------------------------------------

ENGAGEMENT_KINDS = ("shown", "opened", "saved", "dismissed")


def engagement_count(*, notice_ids: Collection[int], kind: str) -> None:
    """Add one to the anonymous ``kind`` count of each notice (shown, opened, saved, dismissed),
    which popularity reads. No resident is in it; callers count each resident's first showing,
    opening and save only (portal/home/services.py), so one account cannot inflate it."""
    if kind not in ENGAGEMENT_KINDS:
        raise ValueError(f"unknown kind of engagement: {kind}")
    ids = sorted(set(notice_ids))
    if not ids:
        return
    table = connection.ops.quote_name(NoticeEngagement._meta.db_table)
    counts = [1 if other == kind else 0 for other in ENGAGEMENT_KINDS]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list[Any] = []
    for notice_id in ids:
        params += [notice_id, *counts, now]
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(ids))
    # One upsert for the whole list; PostgreSQL and SQLite share the syntax.
    sql = (
        f"INSERT INTO {table} (notice_id, {', '.join(ENGAGEMENT_KINDS)}, updated_at) "
        f"VALUES {rows} ON CONFLICT (notice_id) DO UPDATE SET "
        f"{kind} = {table}.{kind} + 1, updated_at = excluded.updated_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@transaction.atomic
def feed_drop(*, resident_id: int, notice_id: int) -> None:
    """Take a notice out of the resident's feed at once ("not interested"); the rescore that
    follows fills the place."""
    FeedAddition.objects.filter(resident_id=resident_id, notice_id=notice_id).delete()
    feed = StoredFeed.objects.select_for_update().filter(resident_id=resident_id).first()
    if feed is None or notice_id not in feed.entries.get("notice", []):
        return
    keep = [i for i, other in enumerate(feed.entries["notice"]) if other != notice_id]
    feed.entries = {key: [feed.entries[key][i] for i in keep] for key in ENTRY_LISTS}
    feed.cutoff = _cutoff(feed.entries["score"])
    feed.save(update_fields=["entries", "cutoff"])


def feed_forget(*, resident_id: int) -> None:
    """Delete the resident's stored feed and additions: they were ranked from data the resident
    has just stopped sharing (or changed). Inside the transaction that changed it, so no page
    shows them after it commits; the page shows the city's own order until the rescore."""
    StoredFeed.objects.filter(resident_id=resident_id).delete()
    FeedAddition.objects.filter(resident_id=resident_id).delete()
