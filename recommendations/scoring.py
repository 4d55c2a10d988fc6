"""Scoring every notice for every resident of a chunk: arrays, not loops over pairs (pure).

Each side is a set of matrices: ``Notices`` (one row per notice) and ``Residents`` (one row per
resident, built only from what the consent gate returned for the personalised home page). A
feature of a pair is a product of the two sides — a sparse or dense matrix product, a gather or
a broadcast — so a chunk of residents × every active notice is a handful of BLAS calls, and the
score is a weighted sum of the features (a linear model: ``recommendations.training`` fits the
weights with scikit-learn on the same features of single pairs, ``pair_features``).

Eligibility is a boolean mask of the same shape: a targeted notice is for a resident only if
every part of its targeting (areas, age bands, school audiences, interests) matches something
the resident shared for this purpose; an untargeted notice is for everyone. Then each
resident's best ``candidates`` are re-ranked for diversity (not ten notices of one category at
the top), still as arrays, and only those are explained (``explain``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

# scipy.sparse.csr_matrix: scipy has no type stubs.
type Matrix = Any
FloatArray = NDArray[np.float32]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

# Every feature the scorer knows, in the order of the weight vector.
FEATURES = (
    "area",  # how strongly one of the resident's places lies in the notice's areas (0..1)
    "age",  # the resident's age band is one the notice is for
    "school",  # one of the resident's children is in the notice's school audience
    "interest",  # share of the notice's interests the resident has
    "category",  # the resident's affinity to the notice's category (interaction history)
    "text",  # similarity of the notice's text to what the resident read and saved
    "recency",  # newness of the notice (1 just published, halving every RECENCY_HALF_LIFE)
    "urgency",  # information 0, advisory 1/3, warning 2/3, emergency 1
    "popularity",  # how often residents opened (or saved) it when shown, smoothed (0..1)
)
# Features that come from the resident's own data: only these make a reason "about you".
PERSONAL_FEATURES = frozenset({"area", "age", "school", "interest", "category", "text"})

# The prior, before any model is trained (cold start): targeting first, then urgency and news.
PRIOR_WEIGHTS: dict[str, float] = {
    "area": 2.0,
    "age": 1.0,
    "school": 2.0,
    "interest": 1.5,
    "category": 1.0,
    "text": 1.0,
    "recency": 1.0,
    "urgency": 1.5,
    "popularity": 0.5,
}


@dataclass(frozen=True)
class Notices:
    """The notice side: row ``j`` of every matrix is notice ``ids[j]``."""

    ids: IntArray
    categories: IntArray  # index into the category vocabulary
    recency: FloatArray
    urgency: FloatArray
    popularity: FloatArray
    areas: Matrix  # N × areas, 1 where the notice targets the area
    age_bands: Matrix  # N × bands
    audiences: Matrix  # N × school audiences ("school:grade" tokens)
    interests: Matrix  # N × interests
    text: FloatArray  # N × d, rows of unit length (or zero)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def targeted_by(self) -> dict[str, BoolArray]:
        """For each targeting part, which notices set it."""
        return {
            "area": _row_has_any(self.areas),
            "age": _row_has_any(self.age_bands),
            "school": _row_has_any(self.audiences),
            "interest": _row_has_any(self.interests),
        }


@dataclass(frozen=True)
class Residents:
    """The resident side, from what the consent gate returned: row ``i`` is ``ids[i]``.

    A resident who shared nothing for the purpose has empty rows: untargeted notices only, ranked
    by the notice-side features.
    """

    ids: IntArray
    areas: Matrix  # R × areas: the weight of the strongest place in or below each area
    age_bands: Matrix  # R × bands
    audiences: Matrix  # R × audiences
    interests: Matrix  # R × interests
    category_affinity: FloatArray  # R × categories, each row summing to at most 1
    text: FloatArray  # R × d, rows of unit length (or zero)
    dismissed: Matrix  # R × N (the notices' order), 1 where marked "not interested"
    # R × N, 1 where the resident opened or saved the notice itself: its own words and category
    # are in their history, so "like what you read" would be the notice explaining itself.
    engaged: Matrix | None = None

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Ranked:
    """Each resident's chosen notices, best first: ``notice_rows[i, k]`` is a row of the
    notices (-1 where the resident has fewer eligible notices than slots)."""

    notice_rows: IntArray  # R × slots
    scores: FloatArray  # R × slots


def take_rows[Side: (Notices, Residents)](side: Side, rows: IntArray | list[int]) -> Side:
    """The same side cut to these rows: every array and matrix of it is indexed by row first."""
    return replace(
        side,
        **{
            column.name: value[rows]
            for column in fields(side)
            if (value := getattr(side, column.name)) is not None
        },
    )


def weight_vector(weights: Mapping[str, float]) -> FloatArray:
    return np.asarray([weights.get(name, 0.0) for name in FEATURES], dtype=np.float32)


# ------------------------------------------------------------------------------------------------
# Eligibility
# ------------------------------------------------------------------------------------------------


def eligibility(residents: Residents, notices: Notices) -> BoolArray:
    """R × N: every targeting part a notice sets matches the resident (AND between parts, OR
    within one), and the resident has not set it aside."""
    eligible = np.ones((len(residents), len(notices)), dtype=np.bool_)
    for part, (mine, theirs) in _targeting_pairs(residents, notices).items():
        sets_part = notices.targeted_by[part]
        if not sets_part.any():
            continue
        matches = _dense(mine @ theirs.T) > 0
        eligible &= matches | ~sets_part[np.newaxis, :]
    if residents.dismissed.nnz:
        # A warning or an emergency cannot be set aside: it stays eligible all the same.
        set_aside = _dense(residents.dismissed) > 0
        eligible &= ~(set_aside & (notices.urgency < URGENT)[np.newaxis, :])
    return eligible


def _targeting_pairs(residents: Residents, notices: Notices) -> dict[str, tuple[Matrix, Matrix]]:
    return {
        "area": (_binary(residents.areas), notices.areas),
        "age": (residents.age_bands, notices.age_bands),
        "school": (residents.audiences, notices.audiences),
        "interest": (residents.interests, notices.interests),
    }


# ------------------------------------------------------------------------------------------------
# Features and scores
# ------------------------------------------------------------------------------------------------


def feature_matrices(residents: Residents, notices: Notices) -> Iterable[tuple[str, FloatArray]]:
    """Each feature as an R × N matrix, one at a time (a chunk never holds them all)."""
    r, n = len(residents), len(notices)
    yield "area", np.minimum(_dense(residents.areas @ notices.areas.T), 1.0)
    yield "age", _dense(residents.age_bands @ notices.age_bands.T)
    yield "school", np.minimum(_dense(residents.audiences @ notices.audiences.T), 1.0)
    per_notice = np.maximum(_row_sums(notices.interests), 1.0)
    shared = _dense(residents.interests @ notices.interests.T)
    yield "interest", (shared / per_notice[np.newaxis, :]).astype(np.float32)
    yield "category", residents.category_affinity[:, notices.categories].astype(np.float32)
    yield "text", np.clip(residents.text @ notices.text.T, 0.0, 1.0).astype(np.float32)
    yield "recency", np.broadcast_to(notices.recency[np.newaxis, :], (r, n))
    yield "urgency", np.broadcast_to(notices.urgency[np.newaxis, :], (r, n))
    yield "popularity", np.broadcast_to(notices.popularity[np.newaxis, :], (r, n))


# The urgency feature of a warning (2/3) and an emergency (1): never set aside, always eligible
# where their targeting matches.
URGENT = 0.6

# Features of the notice alone: summed into one row first, then added to every resident's row.
NOTICE_FEATURES = frozenset({"recency", "urgency", "popularity"})


def score_matrix(
    residents: Residents, notices: Notices, weights: FloatArray, bias: float = 0.0
) -> FloatArray:
    """R × N: the linear score, summed one feature at a time, in place."""
    notice_part = np.full(len(notices), bias, dtype=np.float32)
    notice_part += weights[FEATURES.index("recency")] * notices.recency
    notice_part += weights[FEATURES.index("urgency")] * notices.urgency
    notice_part += weights[FEATURES.index("popularity")] * notices.popularity
    scores = np.empty((len(residents), len(notices)), dtype=np.float32)
    scores[:] = notice_part[np.newaxis, :]
    for index, (name, values) in enumerate(feature_matrices(residents, notices)):
        if name in NOTICE_FEATURES or not weights[index]:
            continue
        if not values.flags.writeable:
            values = values.copy()
        np.multiply(values, weights[index], out=values)
        scores += values
    return scores


def pair_features(
    residents: Residents, notices: Notices, resident_rows: IntArray, notice_rows: IntArray
) -> FloatArray:
    """P × features for P pairs (row ``resident_rows[p]``, notice ``notice_rows[p]``): the same
    values ``feature_matrices`` holds at those cells, for training and for explaining."""
    rs, ns = resident_rows, notice_rows
    columns = [
        np.minimum(_pairwise(residents.areas, notices.areas, rs, ns), 1.0),
        _pairwise(residents.age_bands, notices.age_bands, rs, ns),
        np.minimum(_pairwise(residents.audiences, notices.audiences, rs, ns), 1.0),
        _pairwise(residents.interests, notices.interests, rs, ns)
        / np.maximum(_row_sums(notices.interests)[ns], 1.0),
        residents.category_affinity[rs, notices.categories[ns]],
        np.clip(np.einsum("pd,pd->p", residents.text[rs], notices.text[ns]), 0.0, 1.0),
        notices.recency[ns],
        notices.urgency[ns],
        notices.popularity[ns],
    ]
    return np.column_stack(columns).astype(np.float32)


# ------------------------------------------------------------------------------------------------
# Ranking
# ------------------------------------------------------------------------------------------------


def rank(
    scores: FloatArray,
    eligible: BoolArray,
    categories: IntArray,
    *,
    slots: int,
    candidates: int,
    diversity: float,
) -> Ranked:
    """Each resident's ``slots`` best notices: the ``candidates`` best eligible ones, re-ranked
    greedily so that each further notice of a category already chosen loses ``diversity`` from
    its score. Vectorised over residents: one step per slot, not per pair."""
    r, n = scores.shape
    if r == 0 or n == 0:
        empty = np.full((r, slots), -1, dtype=np.int64)
        return Ranked(notice_rows=empty, scores=np.zeros((r, slots), dtype=np.float32))
    masked = np.where(eligible, scores, -np.inf).astype(np.float32)
    width = min(candidates, n)
    top = np.argpartition(-masked, width - 1, axis=1)[:, :width]
    top_scores = np.take_along_axis(masked, top, axis=1)
    # Best first, equal scores in notice order: the same input ranks the same way every time.
    order = np.lexsort((top, -top_scores), axis=1)
    top = np.take_along_axis(top, order, axis=1)
    top_scores = np.take_along_axis(top_scores, order, axis=1)
    top_categories = categories[top]
    chosen = np.full((r, slots), -1, dtype=np.int64)
    chosen_scores = np.zeros((r, slots), dtype=np.float32)
    taken = np.zeros_like(top_scores, dtype=np.bool_)
    category_count = np.zeros((r, int(categories.max(initial=0)) + 1), dtype=np.float32)
    everyone = np.arange(r)
    for slot in range(min(slots, width)):
        already = np.take_along_axis(category_count, top_categories, axis=1)
        adjusted = np.where(taken, -np.inf, top_scores - diversity * already)
        best = adjusted.argmax(axis=1)
        found = np.isfinite(adjusted[everyone, best])
        chosen[found, slot] = top[everyone, best][found]
        chosen_scores[found, slot] = top_scores[everyone, best][found]
        taken[everyone[found], best[found]] = True
        np.add.at(category_count, (everyone[found], top_categories[everyone, best][found]), 1.0)
    return Ranked(notice_rows=chosen, scores=chosen_scores)


# ------------------------------------------------------------------------------------------------
# Reasons
# ------------------------------------------------------------------------------------------------

# Bits of a stored reason mask: a personal feature that counted for this pair, or a property of
# the notice. Rendered as "why am I seeing this?" by recommendations.reasons.
REASON_BITS = {name: 1 << index for index, name in enumerate(FEATURES)}
REASON_BITS["for_everyone"] = 1 << len(FEATURES)
# A notice-side feature is a reason only when strong enough to say so (popularity 0.5: opened by
# about half of those it was shown to).
NOTICE_REASON_THRESHOLDS = {"recency": 0.75, "urgency": 0.6, "popularity": 0.5}


@dataclass(frozen=True)
class Explained:
    """Why each chosen pair was chosen, as columns parallel to the pairs."""

    masks: IntArray  # REASON_BITS of each pair
    area_columns: IntArray  # the notice's area the resident's strongest place lies in, or -1
    interest_columns: IntArray  # one interest the resident shares with the notice, or -1
    audience_columns: IntArray  # the school audience of the resident's child, or -1


def explain(
    residents: Residents,
    notices: Notices,
    resident_rows: IntArray,
    notice_rows: IntArray,
    weights: FloatArray,
) -> Explained:
    """The reasons for the chosen pairs: the personal features that added to the score (so only
    data the scorer had for this resident, and used), and the notice's own strong points."""
    features = pair_features(residents, notices, resident_rows, notice_rows)
    counted = (features > 0) & (weights[np.newaxis, :] > 0)
    masks = np.zeros(len(resident_rows), dtype=np.int64)
    for index, name in enumerate(FEATURES):
        if name in PERSONAL_FEATURES:
            masks |= np.where(counted[:, index], REASON_BITS[name], 0)
        else:
            strong = features[:, index] >= NOTICE_REASON_THRESHOLDS[name]
            masks |= np.where(strong & counted[:, index], REASON_BITS[name], 0)
    if residents.engaged is not None and residents.engaged.nnz and len(resident_rows):
        own = np.asarray(residents.engaged[resident_rows, notice_rows]).ravel() > 0
        masks &= np.where(own, ~(REASON_BITS["category"] | REASON_BITS["text"]), -1)
    personal = sum(REASON_BITS[name] for name in PERSONAL_FEATURES)
    masks |= np.where(masks & personal, 0, REASON_BITS["for_everyone"])
    return Explained(
        masks=masks,
        area_columns=_strongest_shared_column(
            residents.areas, notices.areas, resident_rows, notice_rows
        ),
        interest_columns=_strongest_shared_column(
            residents.interests, notices.interests, resident_rows, notice_rows
        ),
        audience_columns=_strongest_shared_column(
            residents.audiences, notices.audiences, resident_rows, notice_rows
        ),
    )


def _strongest_shared_column(mine: Matrix, theirs: Matrix, rs: IntArray, ns: IntArray) -> IntArray:
    """For each pair, the column where both rows are set with the largest product, or -1.

    scipy's row-wise argmax loops in Python over the rows; here the entries are sorted by row,
    then by value, and each row's first entry is its largest.
    """
    best = np.full(len(rs), -1, dtype=np.int64)
    if len(rs) == 0 or mine.shape[1] == 0:
        return best
    product = sparse.csr_matrix(mine[rs].multiply(theirs[ns]))
    product.eliminate_zeros()
    counts = np.diff(product.indptr)
    if not counts.any():
        return best
    entry_rows = np.repeat(np.arange(len(rs)), counts)
    order = np.lexsort((product.indices, -product.data, entry_rows))
    filled = counts > 0
    best[filled] = product.indices[order[product.indptr[:-1][filled]]]
    return best


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def _dense(matrix: Matrix) -> FloatArray:
    """A sparse or dense product as a dense float32 array."""
    if sparse.issparse(matrix):
        return np.asarray(matrix.toarray(), dtype=np.float32)
    return np.asarray(matrix, dtype=np.float32)


def _binary(matrix: Matrix) -> Matrix:
    binary = matrix.copy()
    binary.data = np.ones_like(binary.data)
    return binary


def _row_has_any(matrix: Matrix) -> BoolArray:
    return np.asarray(matrix.getnnz(axis=1) > 0, dtype=np.bool_)


def _row_sums(matrix: Matrix) -> FloatArray:
    return np.asarray(matrix.sum(axis=1), dtype=np.float32).ravel()


def _pairwise(mine: Matrix, theirs: Matrix, rs: IntArray, ns: IntArray) -> FloatArray:
    """Row ``rs[p]`` of ``mine`` dotted with row ``ns[p]`` of ``theirs``, for every p."""
    if len(rs) == 0:
        return np.zeros(0, dtype=np.float32)
    product = mine[rs].multiply(theirs[ns])
    return np.asarray(product.sum(axis=1), dtype=np.float32).ravel()
