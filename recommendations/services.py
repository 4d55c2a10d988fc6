"""Writes of the recommender: each resident's stored feed, rescored by resident id range.

A range is read through the consent gate chunk by chunk; each chunk's feeds replace, in one
transaction, every stored feed of the ids the chunk covers (so a resident who stopped sharing
everything loses their feed in the same pass). PostgreSQL takes the rows by COPY.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from recommendations.features import (
    Vocabulary,
    active_notices,
    notice_side,
    notice_text,
    popularity_scale,
    resident_chunks,
    resident_side,
)
from recommendations.models import FeedEntry, ModelVersion, NoticeEngagement
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

FEED_SIZE = 30  # entries stored per resident ("more" pages through them)
CANDIDATES = 100  # re-ranked for diversity and explained
DIVERSITY = 0.15  # taken off a notice's score for each notice of its category above it
CHUNK_SIZE = 2000
FEED_COLUMNS = (
    "resident_id",
    "notice_id",
    "position",
    "score",
    "reasons",
    "reason_area_id",
    "reason_interest",
    "reason_school_id",
    "model_version_id",
    "computed_at",
)


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


def feeds_rescore(
    *, id_range: tuple[int, int], now: datetime | None = None, chunk_size: int = CHUNK_SIZE
) -> Rescored:
    """Rescore every resident with an id in ``id_range`` (both ends included)."""
    now = now or timezone.now()
    notices = list(active_notices(now=now))
    model = active_model(
        notice_texts=[notice_text(n.title_ja, n.body_ja, n.title_en, n.body_en) for n in notices]
    )
    vocabulary = Vocabulary.load()
    side = notice_side(
        notices,
        vocabulary=vocabulary,
        text_model=model.text_model,
        popularity=popularity_scale(_engagement_counts()),
        now=now,
    )
    weights = weight_vector(model.weights)
    low, high = id_range
    residents = entries = 0
    covered_from = low
    for chunk in resident_chunks(id_range=id_range, chunk_size=chunk_size):
        people = resident_side(
            chunk, notices=side, vocabulary=vocabulary, text_model=model.text_model
        )
        rows = _feed_rows(people, side, weights, model, vocabulary, now=now)
        # This chunk's feeds replace those of every id from the last chunk's end to its own.
        covered_to = chunk.resident_ids[-1]
        _replace_feeds((covered_from, covered_to), rows)
        covered_from = covered_to + 1
        residents += len(people)
        entries += len(rows)
    if covered_from <= high:
        _replace_feeds((covered_from, high), [])
    return Rescored(residents=residents, entries=entries)


def _feed_rows(
    people: Residents,
    side: Notices,
    weights: np.ndarray,
    model: ActiveModel,
    vocabulary: Vocabulary,
    *,
    now: datetime,
) -> list[tuple[Any, ...]]:
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
    area_of = {column: pk for pk, column in vocabulary.areas.items()}
    interest_of = {column: code for code, column in vocabulary.interests.items()}
    school_of = {column: int(token.split(":")[0]) for token, column in vocabulary.audiences.items()}
    return [
        (
            int(people.ids[r]),
            int(side.ids[n]),
            int(slot),
            float(ranked.scores[r, slot]),
            int(why.masks[p]),
            area_of.get(int(why.area_columns[p])),
            interest_of.get(int(why.interest_columns[p]), ""),
            school_of.get(int(why.audience_columns[p])),
            model.version_id,
            now,
        )
        for p, (r, slot, n) in enumerate(zip(resident_rows, slots, notice_rows, strict=True))
    ]


def _replace_feeds(id_range: tuple[int, int], rows: list[tuple[Any, ...]]) -> None:
    low, high = id_range
    with transaction.atomic():
        FeedEntry.objects.filter(resident_id__gte=low, resident_id__lte=high).delete()
        if not rows:
            return
        if connection.vendor == "postgresql":
            _copy_rows(rows)
        else:
            FeedEntry.objects.bulk_create(
                [FeedEntry(**dict(zip(FEED_COLUMNS, row, strict=True))) for row in rows],
                batch_size=2000,
            )


def _copy_rows(rows: list[tuple[Any, ...]]) -> None:
    table = connection.ops.quote_name(FeedEntry._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in FEED_COLUMNS)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor underneath Django's wrapper
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _engagement_counts() -> dict[int, float]:
    return {
        notice_id: opened + 2.0 * saved
        for notice_id, opened, saved in NoticeEngagement.objects.values_list(
            "notice_id", "opened", "saved"
        )
    }
