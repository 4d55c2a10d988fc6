"""Writes of the recommender: each resident's stored feed, rescored by resident id range.

A range is read through the consent gate chunk by chunk; each chunk's feeds replace, in one
transaction, every stored feed of the ids the chunk covers (so a resident who stopped sharing
everything loses their feed in the same pass). PostgreSQL takes the rows by COPY.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from consent.catalogue import PurposeCode
from consent.selectors import resident_id_ranges
from portal.models import Area
from recommendations.features import (
    Vocabulary,
    active_notices,
    notice_side,
    notice_text,
    popularity_scale,
    resident_chunks,
    resident_side,
)
from recommendations.models import ModelVersion, NoticeEngagement, StoredFeed
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
    weight_vector,
)
from recommendations.text import TextModel

FEED_SIZE = 20  # entries stored per resident ("more" pages through them)
CANDIDATES = 60  # re-ranked for diversity
DIVERSITY = 0.15  # taken off a notice's score for each notice of its category above it
CHUNK_SIZE = 5000
# The cutoff of a feed with room left: every eligible notice enters.
NOT_FULL = -1e9
FEED_COLUMNS = ("resident_id", "entries", "cutoff", "model_version_id", "computed_at")
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
        _replace_feeds((covered_from, covered_to), feed)
        covered_from = covered_to + 1
        residents += len(people)
        entries += len(feed)
    if covered_from <= high:
        _replace_feeds((covered_from, high), None)
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


def _replace_feeds(id_range: tuple[int, int], feed: FeedColumns | None) -> None:
    low, high = id_range
    _write_feeds(
        StoredFeed.objects.filter(resident_id__gte=low, resident_id__lte=high),
        feed.feeds() if feed is not None else [],
    )


def _write_feeds(replaced: QuerySet[StoredFeed], rows: list[tuple[Any, ...]]) -> None:
    """Delete ``replaced`` and write ``rows`` in their place, in one transaction."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Feeds are derived: a crash may lose the last moment's rescore, which the next
            # one redoes, so the commit need not wait for the disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        replaced.delete()
        if not rows:
            return
        if connection.vendor == "postgresql":
            _copy_rows(rows)
        else:
            _insert_rows(rows)


def _copy_rows(rows: list[tuple[Any, ...]]) -> None:
    table = connection.ops.quote_name(StoredFeed._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in FEED_COLUMNS)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor underneath Django's wrapper
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _insert_rows(rows: list[tuple[Any, ...]]) -> None:
    """Elsewhere (SQLite in development): one prepared INSERT run over every row."""
    table = connection.ops.quote_name(StoredFeed._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in FEED_COLUMNS)
    marks = ", ".join(["%s"] * len(FEED_COLUMNS))
    at = connection.ops.adapt_datetimefield_value(rows[0][-1])
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})", [(*row[:-1], at) for row in rows]
        )


# ------------------------------------------------------------------------------------------------
# Fan-out of one notice
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FannedOut:
    residents_read: int
    feeds_entered: int


def feeds_fan_out(*, notice_id: int, now: datetime | None = None) -> FannedOut:
    """Score one newly published (or updated) notice against every resident who shares anything
    for the home page, chunk by chunk, and put it into each stored feed where it now ranks among
    the best ``FEED_SIZE``, with its reasons. Idempotent: a notice already in a feed is moved to
    where its new score puts it, not added twice.

    A notice that is no longer active (withdrawn, expired, superseded) needs nothing here: the
    stored feeds' reader drops it at once, and the next rescore leaves it out. Diversity is
    applied by the periodic rescore, not here.
    """
    now = now or timezone.now()
    context = scoring_context(now=now)
    rows = np.flatnonzero(context.side.ids == notice_id)
    if not len(rows):
        return FannedOut(residents_read=0, feeds_entered=0)
    row = int(rows[0])
    one = _one_notice(context.side, row)
    read = entered = 0
    for id_range in resident_id_ranges(
        purpose=PurposeCode.PERSONALISED_HOME, size=settings.RECOMMENDER_RANGE_SIZE
    ):
        for chunk in resident_chunks(id_range=id_range, chunk_size=CHUNK_SIZE):
            people = resident_side(
                chunk,
                notices=context.side,
                vocabulary=context.vocabulary,
                text_model=context.model.text_model,
            )
            people = replace(people, dismissed=people.dismissed[:, [row]])
            read += len(people)
            concerned = np.flatnonzero(eligibility(people, one)[:, 0])
            if not len(concerned):
                continue
            scores = score_matrix(people, one, context.weights, context.model.bias)[:, 0]
            why = explain(
                people, one, concerned, np.zeros(len(concerned), dtype=np.int64), context.weights
            )
            ids = context.vocabulary.ids_by_column()
            entries = {
                "resident": people.ids[concerned].tolist(),
                "score": np.round(scores[concerned], 4).tolist(),
                "reasons": why.masks.tolist(),
                "area": _ids_of(why.area_columns, ids["area"]).tolist(),
                "interest": _ids_of(why.interest_columns, ids["interest"]).tolist(),
                "school": _ids_of(why.audience_columns, ids["school"]).tolist(),
            }
            entered += _enter_feeds(notice_id, entries, context.model, now=now)
    return FannedOut(residents_read=read, feeds_entered=entered)


def _one_notice(side: Notices, row: int) -> Notices:
    """The notices' side cut down to one notice (its matrices one row high)."""
    keep = [row]
    return Notices(
        ids=side.ids[keep],
        categories=side.categories[keep],
        recency=side.recency[keep],
        urgency=side.urgency[keep],
        popularity=side.popularity[keep],
        areas=side.areas[keep],
        age_bands=side.age_bands[keep],
        audiences=side.audiences[keep],
        interests=side.interests[keep],
        text=side.text[keep],
    )


def _enter_feeds(
    notice_id: int, entries: dict[str, list[Any]], model: ActiveModel, *, now: datetime
) -> int:
    """Put the notice into the stored feeds of these residents where its score ranks it among
    the best ``FEED_SIZE``; rewrite those feeds in one transaction. Returns how many changed."""
    # Only feeds the notice can enter are read whole: where it scores above the lowest entry of
    # a full feed, where the feed is not full, where there is none yet, or where it already is.
    cutoffs = dict(
        StoredFeed.objects.filter(resident_id__in=entries["resident"]).values_list(
            "resident_id", "cutoff"
        )
    )
    holding = (
        set(
            StoredFeed.objects.filter(
                resident_id__in=entries["resident"], entries__notice__contains=notice_id
            ).values_list("resident_id", flat=True)
        )
        if connection.vendor == "postgresql"
        else set(cutoffs)
    )
    chosen = [
        index
        for index, resident_id in enumerate(entries["resident"])
        if resident_id not in cutoffs
        or entries["score"][index] > cutoffs[resident_id]
        or resident_id in holding
    ]
    residents = [entries["resident"][index] for index in chosen]
    entries = {key: [values[index] for index in chosen] for key, values in entries.items()}
    stored = {
        feed.resident_id: feed.entries
        for feed in StoredFeed.objects.filter(resident_id__in=residents).only("entries")
    }
    rows: list[tuple[Any, ...]] = []
    for index, resident_id in enumerate(residents):
        lists = _without_notice(stored.get(resident_id) or _empty_entries(), notice_id)
        scores = lists["score"]
        score = entries["score"][index]
        # Best first: the notice goes after every entry scoring at least as much.
        position = next((i for i, other in enumerate(scores) if other < score), len(scores))
        if position >= FEED_SIZE:
            continue
        for key, column in (
            ("notice", notice_id),
            ("score", score),
            ("reasons", entries["reasons"][index]),
            ("area", entries["area"][index]),
            ("interest", entries["interest"][index]),
            ("school", entries["school"][index]),
        ):
            lists[key] = (lists[key][:position] + [column] + lists[key][position:])[:FEED_SIZE]
        rows.append(
            (resident_id, json.dumps(lists), _cutoff(lists["score"]), model.version_id or 0, now)
        )
    if rows:
        _write_feeds(StoredFeed.objects.filter(resident_id__in=[row[0] for row in rows]), rows)
    return len(rows)


def _cutoff(scores: list[float]) -> float:
    """The score a notice must beat to enter: the lowest of a full feed; any, if not full."""
    return scores[-1] if len(scores) >= FEED_SIZE else NOT_FULL


def _empty_entries() -> dict[str, list[Any]]:
    return {key: [] for key in ENTRY_LISTS}


def _without_notice(lists: dict[str, list[Any]], notice_id: int) -> dict[str, list[Any]]:
    keep = [i for i, other in enumerate(lists.get("notice", [])) if other != notice_id]
    return {key: [lists.get(key, [])[i] for i in keep] for key in ENTRY_LISTS}


def rescore_ranges(*, size: int | None = None) -> list[tuple[int, int]]:
    """The id ranges a rescore of everyone covers (residents who share anything for the
    personalised home page, ``RECOMMENDER_RANGE_SIZE`` each); stored feeds of residents outside
    them (who stopped sharing everything) are dropped at once."""
    ranges = resident_id_ranges(
        purpose=PurposeCode.PERSONALISED_HOME, size=size or settings.RECOMMENDER_RANGE_SIZE
    )
    outside = StoredFeed.objects.all()
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
