"""Both sides of the scorer, built from the database: the notices (public, read directly) and the
residents (read ONLY through ``consent.policy``, for the personalised home page, naming the
categories used: a resident's row holds nothing the gate did not return).

The notices' side is built once per rescore and shared by every chunk of residents; a chunk's
side is built from one ``ProfileChunk`` of the gate's range read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db.models import QuerySet
from django.utils.translation import gettext_noop
from numpy.typing import NDArray
from scipy import sparse

from consent import policy
from consent.catalogue import Category as DataCategory
from consent.catalogue import PurposeCode, RecipientCode
from consent.policy import ProfileChunk
from portal.models import Area, InterestTag
from portal.notices.models import AGE_BANDS, URGENCY_RANK, Category, Notice, SchoolAudience
from portal.notices.selectors import published_notices
from recommendations.scoring import Notices, Residents
from recommendations.text import TextModel, mean_of_rows

# What the scorer asks the gate for (the purpose "personalised home page").
CATEGORIES_USED = (
    DataCategory.PLACES,
    DataCategory.AGE,
    DataCategory.HOUSEHOLD,
    DataCategory.INTERESTS,
    DataCategory.INTERACTIONS,
)
SCORER = policy.Reader(
    kind="task",
    name=gettext_noop("the ranking of the notices on your home page"),
    recipient=RecipientCode.OPERATOR,
)
# Training reads the same data for another end than ranking the resident's own page: the
# data-use log says so.
TRAINER = policy.Reader(
    kind="task",
    name=gettext_noop("training the model that ranks notices on home pages, from interactions"),
    recipient=RecipientCode.OPERATOR,
)
# How much a place counts: home most, then where one works or studies, then the rest.
PLACE_WEIGHTS = {"home": 1.0, "work": 0.8, "school": 0.8, "family": 0.6, "other": 0.6}
RECENCY_HALF_LIFE = timedelta(hours=72)
# Saving says more than opening.
OPEN_WEIGHT, SAVE_WEIGHT = 1.0, 2.0
CATEGORY_ORDER = tuple(Category.values)


@dataclass(frozen=True)
class Vocabulary:
    """Column of each area, age band, school audience, interest and category."""

    areas: dict[int, int]
    bands: dict[str, int]
    audiences: dict[str, int]
    interests: dict[str, int]
    categories: dict[str, int]
    interest_ids: dict[str, int]  # tag code → tag id, for reasons (stored by id)
    # Row ``pk``: the columns of area ``pk`` and of every area it lies in, -1 where none.
    covering: np.ndarray

    @classmethod
    def load(cls) -> Vocabulary:
        parents = dict(Area.objects.values_list("pk", "parent_id"))
        tags = list(InterestTag.objects.values_list("code", "pk"))
        areas = {pk: column for column, pk in enumerate(sorted(parents))}
        ancestors = {pk: _with_ancestors(pk, parents) for pk in parents}
        return cls(
            areas=areas,
            covering=_covering_columns(areas, ancestors),
            bands={band: column for column, band in enumerate(AGE_BANDS)},
            audiences={},
            interests={code: column for column, (code, _pk) in enumerate(tags)},
            categories={code: column for column, code in enumerate(CATEGORY_ORDER)},
            interest_ids=dict(tags),
        )

    def ids_by_column(self) -> dict[str, dict[int, int]]:
        """What each column of the reasons' vocabularies stands for: area, interest tag and
        school ids (reasons are stored by id). No query: asked once per chunk."""
        return {
            "area": {column: pk for pk, column in self.areas.items()},
            "interest": {
                column: self.interest_ids[code] for code, column in self.interests.items()
            },
            "school": {
                column: int(token.split(":")[0]) for token, column in self.audiences.items()
            },
        }

    def audience_column(self, token: str) -> int:
        """School audiences appear with notices: each gets a column when first seen."""
        return self.audiences.setdefault(token, len(self.audiences))

    def covering_columns(self, area_ids: np.ndarray) -> np.ndarray:
        """For each area id, the columns of the area and of every area it lies in (one row
        each, -1 where none; an area unknown to the vocabulary has none)."""
        known = (area_ids >= 0) & (area_ids < len(self.covering))
        rows = np.full((len(area_ids), self.covering.shape[1]), -1, dtype=np.int64)
        rows[known] = self.covering[area_ids[known]]
        return rows


def _covering_columns(
    areas: Mapping[int, int], ancestors: Mapping[int, tuple[int, ...]]
) -> np.ndarray:
    depth = max((len(chain) for chain in ancestors.values()), default=1)
    table = np.full((max(areas, default=0) + 1, depth), -1, dtype=np.int64)
    for pk, chain in ancestors.items():
        columns = [areas[area] for area in chain if area in areas]
        table[pk, : len(columns)] = columns
    return table


def _with_ancestors(pk: int, parents: Mapping[int, int | None]) -> tuple[int, ...]:
    chain = [pk]
    while (parent := parents.get(chain[-1])) is not None and parent not in chain:
        chain.append(parent)
    return tuple(chain)


def audience_token(school_id: int, grade: int | None) -> str:
    """ "12:3" for the parents of grade 3 at school 12, "12:" for all its parents."""
    return f"{school_id}:{grade if grade is not None else ''}"


# ------------------------------------------------------------------------------------------------
# Notices
# ------------------------------------------------------------------------------------------------


def active_notices(*, now: datetime) -> QuerySet[Notice]:
    """What the feeds rank: published, unexpired, real notices; school letters have their own
    card, and exercises never reach residents."""
    return published_notices(now=now).exclude(category=Category.SCHOOL).order_by("pk")


def notice_text(title_ja: str, body_ja: str, title_en: str = "", body_en: str = "") -> str:
    return " ".join(part for part in (title_ja, body_ja, title_en, body_en) if part)


def recency_of(ages_hours: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    """1 just published, halving every ``RECENCY_HALF_LIFE``."""
    half_life = RECENCY_HALF_LIFE.total_seconds() / 3600
    # Rounded: notices published a moment apart tie, and ties rank by notice (stable).
    return np.round(np.exp2(-np.asarray(ages_hours) / half_life), 4).astype(np.float32)


def notice_side(
    notices: Sequence[Notice],
    *,
    vocabulary: Vocabulary,
    text_model: TextModel,
    popularity: Mapping[int, float],
    now: datetime,
    unseen_popularity: float = 0.0,
) -> Notices:
    """The notices' matrices (targeting read in three queries, whatever their number).

    A notice missing from ``popularity`` (never shown yet) gets ``unseen_popularity``, the
    overall rate that ``popularity_scale`` smooths every notice towards."""
    ids = [notice.pk for notice in notices]
    row_of = {pk: row for row, pk in enumerate(ids)}
    n = len(ids)
    area_rows = Notice.areas.through.objects.filter(notice_id__in=ids).values_list(
        "notice_id", "area_id"
    )
    interest_rows = Notice.interests.through.objects.filter(notice_id__in=ids).values_list(
        "notice_id", "interesttag__code"
    )
    audience_rows = SchoolAudience.objects.filter(notice_id__in=ids).values_list(
        "notice_id", "school_id", "grade"
    )
    areas = _incidence(
        ((row_of[nid], vocabulary.areas[aid]) for nid, aid in area_rows if aid in vocabulary.areas),
        (n, len(vocabulary.areas)),
    )
    interests = _incidence(
        (
            (row_of[nid], vocabulary.interests[code])
            for nid, code in interest_rows
            if code in vocabulary.interests
        ),
        (n, len(vocabulary.interests)),
    )
    audience_cells = [
        (row_of[nid], vocabulary.audience_column(audience_token(school, grade)))
        for nid, school, grade in audience_rows
    ]
    bands = _incidence(
        (
            (row, vocabulary.bands[band])
            for row, notice in enumerate(notices)
            for band in notice.age_bands or ()
            if band in vocabulary.bands
        ),
        (n, len(vocabulary.bands)),
    )
    ages_hours = np.asarray(
        [
            max(0.0, (now - (notice.published_at or now)).total_seconds() / 3600)
            for notice in notices
        ],
        dtype=np.float32,
    )
    top_urgency = max(URGENCY_RANK.values())
    return Notices(
        ids=np.asarray(ids, dtype=np.int64),
        categories=np.asarray(
            [vocabulary.categories[notice.category] for notice in notices], dtype=np.int64
        ),
        recency=recency_of(ages_hours),
        urgency=np.asarray(
            [URGENCY_RANK[notice.urgency] / top_urgency for notice in notices], dtype=np.float32
        ),
        popularity=np.asarray(
            [popularity.get(pk, unseen_popularity) for pk in ids], dtype=np.float32
        ),
        areas=areas,
        age_bands=bands,
        # Sized after every audience column exists: residents' rows are made with the same width.
        audiences=_incidence(audience_cells, (n, len(vocabulary.audiences))),
        interests=interests,
        text=text_model.embed(
            [notice_text(n.title_ja, n.body_ja, n.title_en, n.body_en) for n in notices]
        ),
    )


# ------------------------------------------------------------------------------------------------
# Residents
# ------------------------------------------------------------------------------------------------


def resident_chunks(
    *, id_range: tuple[int, int], chunk_size: int, reader: policy.Reader = SCORER
) -> Iterator[ProfileChunk]:
    """The residents with ids in ``id_range`` who share anything the scorer uses for the
    personalised home page, through the gate (each read logged under ``reader``),
    ``chunk_size`` at a time."""
    return policy.iter_profile_chunks(
        purpose=PurposeCode.PERSONALISED_HOME,
        reader=reader,
        categories=CATEGORIES_USED,
        id_range=id_range,
        chunk_size=chunk_size,
    )


def resident_side(
    chunk: ProfileChunk, *, notices: Notices, vocabulary: Vocabulary, text_model: TextModel
) -> Residents:
    """A chunk of the gate's range read as the residents' matrices."""
    r = len(chunk.resident_ids)
    notice_row = {int(pk): row for row, pk in enumerate(notices.ids)}
    interacted = _interactions(chunk)
    past = past_notices({nid for entries in interacted.values() for nid, _w, _d in entries})
    return Residents(
        ids=np.asarray(chunk.resident_ids, dtype=np.int64),
        areas=_resident_areas(chunk, vocabulary, r),
        age_bands=_incidence(
            (
                (row, vocabulary.bands[band])
                for row, band in enumerate(chunk.age_bands or ())
                if band in vocabulary.bands
            ),
            (r, len(vocabulary.bands)),
        ),
        audiences=_incidence(
            (
                (row, column)
                for row, school, grade in zip(
                    chunk.child_resident_index or (),
                    chunk.child_school_ids or (),
                    chunk.child_grades or (),
                    strict=True,
                )
                for token in (audience_token(school, None), audience_token(school, grade))
                if (column := vocabulary.audiences.get(token)) is not None
            ),
            (r, len(vocabulary.audiences)),
        ),
        interests=_incidence(
            (
                (row, vocabulary.interests[code])
                for row, code in zip(
                    chunk.interest_resident_index or (), chunk.interest_codes or (), strict=True
                )
                if code in vocabulary.interests
            ),
            (r, len(vocabulary.interests)),
        ),
        category_affinity=category_affinity(interacted, past, vocabulary, r),
        text=text_profiles(interacted, past, text_model, r),
        dismissed=_incidence(
            (
                (row, notice_row[nid])
                for row, entries in interacted.items()
                for nid, _weight, dismissed in entries
                if dismissed and nid in notice_row
            ),
            (r, len(notices)),
        ),
        engaged=_incidence(
            (
                (row, notice_row[nid])
                for row, entries in interacted.items()
                for nid, weight, _dismissed in entries
                if weight and nid in notice_row
            ),
            (r, len(notices)),
        ),
    )


def _resident_areas(chunk: ProfileChunk, vocabulary: Vocabulary, r: int) -> sparse.csr_matrix:
    """Each place's area and every area it lies in, at the weight of the place's kind (the
    strongest place wins): a notice for a district reaches its neighbourhoods' residents.
    As arrays: a city's chunk has a place or more per resident."""
    shape = (r, len(vocabulary.areas))
    if not chunk.place_area_ids:
        return sparse.csr_matrix(shape, dtype=np.float32)
    covering = vocabulary.covering_columns(np.asarray(chunk.place_area_ids, dtype=np.int64))
    depth = covering.shape[1]
    kinds, kind_index = np.unique(np.asarray(chunk.place_kinds or ()), return_inverse=True)
    kind_weights = np.asarray([PLACE_WEIGHTS.get(str(kind), 0.6) for kind in kinds])
    rows = np.repeat(np.asarray(chunk.place_resident_index, dtype=np.int64), depth)
    weights = np.repeat(kind_weights[kind_index].astype(np.float32), depth)
    columns = covering.ravel()
    known = columns >= 0
    rows, columns, weights = rows[known], columns[known], weights[known]
    # The strongest place of each (resident, area): sort each cell's weights largest first.
    cells = rows * shape[1] + columns
    order = np.lexsort((-weights, cells))
    first = np.r_[True, cells[order][1:] != cells[order][:-1]]
    chosen = order[first]
    return sparse.csr_matrix(
        (weights[chosen], (rows[chosen], columns[chosen])), shape=shape, dtype=np.float32
    )


# (notice id, weight of the positive signal, set aside) for each resident row
Interacted = dict[int, list[tuple[int, float, bool]]]


def _interactions(chunk: ProfileChunk) -> Interacted:
    interacted: Interacted = defaultdict(list)
    if chunk.interaction_resident_index is None or chunk.interaction_notice_ids is None:
        return interacted
    for row, nid, opened, saved, dismissed in zip(
        chunk.interaction_resident_index,
        chunk.interaction_notice_ids,
        chunk.interaction_opened_at or (),
        chunk.interaction_saved_at or (),
        chunk.interaction_dismissed_at or (),
        strict=True,
    ):
        weight = (OPEN_WEIGHT if opened else 0.0) + (SAVE_WEIGHT if saved else 0.0)
        interacted[row].append((nid, weight, dismissed is not None))
    return interacted


@dataclass(frozen=True)
class PastNotice:
    category: str
    text: str


def past_notices(ids: set[int]) -> dict[int, PastNotice]:
    """The notices residents interacted with, expired ones included (their categories and words
    still say what the resident reads)."""
    rows = Notice.objects.filter(pk__in=ids).values_list(
        "pk", "category", "title_ja", "body_ja", "title_en", "body_en"
    )
    return {
        pk: PastNotice(category, notice_text(title_ja, body_ja, title_en, body_en))
        for pk, category, title_ja, body_ja, title_en, body_en in rows
    }


def category_affinity(
    interacted: Interacted, past: Mapping[int, PastNotice], vocabulary: Vocabulary, r: int
) -> NDArray[np.float32]:
    """R × categories: the share of each row's opens and saves (weighted) in each category."""
    affinity = np.zeros((r, len(vocabulary.categories)), dtype=np.float32)
    for row, entries in interacted.items():
        for nid, weight, _dismissed in entries:
            notice = past.get(nid)
            if weight and notice is not None:
                affinity[row, vocabulary.categories[notice.category]] += weight
    totals = affinity.sum(axis=1, keepdims=True)
    np.divide(affinity, totals, out=affinity, where=totals > 0)
    return affinity


def text_profiles(
    interacted: Interacted, past: Mapping[int, PastNotice], text_model: TextModel, r: int
) -> NDArray[np.float32]:
    """R × d: the unit-length weighted mean of the texts each row opened and saved."""
    profiles = np.zeros((r, text_model.dimensions), dtype=np.float32)
    read = sorted({nid for entries in interacted.values() for nid, w, _d in entries if w})
    known = [nid for nid in read if nid in past]
    if not known:
        return profiles
    embedded = text_model.embed([past[nid].text for nid in known])
    vectors = dict(zip(known, embedded, strict=True))
    for row, entries in interacted.items():
        rows = [vectors[nid] * weight for nid, weight, _d in entries if weight and nid in vectors]
        if rows:
            profiles[row] = mean_of_rows(np.asarray(rows, dtype=np.float32))
    return profiles


# ------------------------------------------------------------------------------------------------
# Popularity (anonymous counts)
# ------------------------------------------------------------------------------------------------


# A notice's rate starts as if it had been shown this many times at the rate of all notices:
# one open out of two showings says little, one out of two hundred says much. Chosen on the MIND
# sample (recommender_evaluate): 5 to 50 rank alike, raw counts or unsmoothed rates rank worse.
POPULARITY_PRIOR_SHOWINGS = 20.0
# ...and at a rate a little above that of all notices: a notice nobody has seen yet ranks above
# one that many saw and few opened, so new notices get their chance to be seen. Chosen on the
# MIND sample's last training day (13 Nov, never its test day): 1.5 ranked best with replay
# (AUC 0.600 → 0.608) and held the strict figure; 2 and more cost the strict protocol.
POPULARITY_PRIOR_OPTIMISM = 1.5


def popularity_rates(
    shown: NDArray[np.floating[Any]], engaged: NDArray[np.floating[Any]], overall: float
) -> NDArray[np.float32]:
    """How often each notice was opened (saves count twice) when shown, smoothed towards
    ``overall`` (0..1, capped): a rate, not a count, so that a notice shown to every resident
    does not outrank one that most of the few who saw it opened."""
    rates = (np.asarray(engaged) + POPULARITY_PRIOR_SHOWINGS * overall) / (
        np.asarray(shown) + POPULARITY_PRIOR_SHOWINGS
    )
    return np.clip(rates, 0.0, 1.0).astype(np.float32)


def overall_rate(total_shown: float, total_engaged: float) -> float:
    """The prior of each notice's rate: that of every notice together, a little raised
    (``POPULARITY_PRIOR_OPTIMISM``); 0 before anything was shown."""
    if total_shown <= 0:
        return 0.0
    return min(1.0, POPULARITY_PRIOR_OPTIMISM * total_engaged / total_shown)


def popularity_scale(counts: Mapping[int, tuple[float, float]]) -> tuple[dict[int, float], float]:
    """Each notice's popularity (0..1) from its anonymous (shown, opened + 2 × saved) counts,
    and the popularity of a notice with no counts yet (the overall rate)."""
    if not counts:
        return {}, 0.0
    ids = list(counts)
    shown = np.asarray([counts[pk][0] for pk in ids], dtype=np.float64)
    engaged = np.asarray([counts[pk][1] for pk in ids], dtype=np.float64)
    overall = overall_rate(float(shown.sum()), float(engaged.sum()))
    rates = popularity_rates(shown, engaged, overall)
    return dict(zip(ids, rates.tolist(), strict=True)), overall


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def _incidence(
    cells: Iterable[tuple[int, int]],
    shape: tuple[int, int],
    *,
    values: Iterable[float] | None = None,
) -> sparse.csr_matrix:
    """A sparse matrix with ``values`` (or 1) at ``cells``; a cell named twice keeps one 1."""
    pairs = list(cells)
    if not pairs:
        return sparse.csr_matrix(shape, dtype=np.float32)
    rows, columns = zip(*pairs, strict=True)
    data = (
        np.fromiter(values, dtype=np.float32)
        if values is not None
        else np.ones(len(pairs), dtype=np.float32)
    )
    matrix = sparse.coo_matrix((data, (rows, columns)), shape=shape, dtype=np.float32).tocsr()
    if values is None:
        matrix.data = np.minimum(matrix.data, 1.0)
    return matrix
