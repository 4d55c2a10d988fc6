"""The learned ranker: one weight per scorer feature, fitted with scikit-learn on pairs (resident,
notice) labelled by what the resident did, and its promotion when it beats the active model.

The weights stay interpretable and non-negative: ``scoring.explain`` names a feature as a reason
only where its weight is positive, so every feature either adds to a score or is left out.
"""

from __future__ import annotations

import pickle
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from numpy.typing import NDArray
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from consent.catalogue import PurposeCode
from consent.policy import ProfileChunk
from consent.selectors import resident_id_ranges
from portal.notices.models import Category, Notice
from recommendations.features import (
    OPEN_WEIGHT,
    SAVE_WEIGHT,
    TRAINER,
    Interacted,
    PastNotice,
    Vocabulary,
    active_notices,
    category_affinity,
    notice_side,
    notice_text,
    overall_rate,
    past_notices,
    popularity_rates,
    recency_of,
    resident_chunks,
    resident_side,
    text_profiles,
)
from recommendations.models import ModelVersion
from recommendations.scoring import (
    FEATURES,
    Notices,
    Residents,
    pair_features,
    take_rows,
    weight_vector,
)
from recommendations.services import CHUNK_SIZE, active_model, engagement_counts
from recommendations.text import TextModel

# Weaker regularisation than scikit-learn's default: the features are few and bounded (0..1).
REGULARISATION_C = 10.0


@dataclass(frozen=True)
class FittedRanker:
    weights: dict[str, float]  # by feature name, every one of FEATURES
    bias: float

    def scores(self, features: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """The linear score of P × features pairs, as ``scoring.score_matrix`` computes it."""
        return np.asarray(features, dtype=np.float64) @ weight_vector(self.weights).astype(
            np.float64
        ) + float(self.bias)


def fit_ranker(
    features: NDArray[np.floating[Any]],
    labels: NDArray[np.integer[Any]],
    *,
    groups: NDArray[np.integer[Any]] | None = None,
) -> FittedRanker:
    """Logistic regression (balanced classes) of ``labels`` on the P × FEATURES ``features``.

    With ``groups`` (an impression, or a resident, per pair) each feature is centred within its
    group first: the weights then say what ranks a candidate above the others shown with it,
    which is what a feed does, not what tells one impression from another.

    A feature whose weight comes out negative is left out (weight 0) and the rest refitted, until
    every weight is positive or nought.
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != len(FEATURES) or len(x) != len(y):
        raise ValueError(f"expected P × {len(FEATURES)} features and P labels")
    if np.unique(y).size < 2:
        raise ValueError("the labels must hold both clicks and skips")
    if groups is not None:
        x = _centred_within(x, np.asarray(groups))
    kept = np.flatnonzero(x.std(axis=0) > 0)
    coefficients = np.zeros(len(FEATURES))
    intercept = 0.0
    while len(kept):
        model = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=1000)
        model.fit(x[:, kept], y)
        fitted = model.coef_[0]
        intercept = float(model.intercept_[0])
        if (fitted >= 0).all():
            coefficients[kept] = fitted
            break
        kept = kept[fitted > 0]
    return FittedRanker(
        weights={name: round(float(w), 6) for name, w in zip(FEATURES, coefficients, strict=True)},
        bias=round(intercept, 6),
    )


def _centred_within(x: NDArray[np.float64], groups: NDArray[Any]) -> NDArray[np.float64]:
    _, group_of = np.unique(groups, return_inverse=True)
    sizes = np.bincount(group_of).astype(np.float64)
    sums = np.zeros((len(sizes), x.shape[1]))
    np.add.at(sums, group_of, x)
    return x - (sums / sizes[:, np.newaxis])[group_of]


def held_out_auc(
    features: NDArray[np.floating[Any]],
    labels: NDArray[np.integer[Any]],
    weights: Mapping[str, float],
    bias: float = 0.0,
) -> float:
    """AUC of the linear scores of the held-out pairs (0.5: no better than chance)."""
    y = np.asarray(labels)
    if np.unique(y).size < 2:
        raise ValueError("held-out pairs must hold both classes")
    ranker = FittedRanker(weights=dict(weights), bias=bias)
    return float(roc_auc_score(y, ranker.scores(features)))


# ------------------------------------------------------------------------------------------------
# Training on the portal's interactions, and promotion
# ------------------------------------------------------------------------------------------------

# Under this many labelled pairs (or without an open and a skip on each side of the time split)
# a fitted model and its held-out AUC say too little: nothing is recorded.
MIN_TRAINING_PAIRS = 200
HELD_OUT_SHARE = 0.2  # the latest pairs, by when they were shown
# Notices published this long before training still teach (their interactions are recent).
TRAINING_WINDOW = timedelta(days=90)


@dataclass
class _Pairs:
    """The labelled pairs read through the gate, as parallel columns, and what their features
    need that does not depend on a text model."""

    resident_ids: list[int] = field(default_factory=list)
    notice_rows: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)
    own_shown: list[float] = field(default_factory=list)  # this pair's part of the counts
    own_engaged: list[float] = field(default_factory=list)
    histories: Interacted = field(default_factory=dict)  # pair → opens and saves before it
    attributes: list[Residents] = field(default_factory=list)  # per chunk, rows by pair

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class TrainingOutcome:
    version: ModelVersion | None  # None: too few interactions, nothing recorded
    promoted: bool
    reason: str


def model_train_and_promote(*, now: datetime) -> TrainingOutcome:
    """Fit a ranker on the consented interactions (read through the gate), store it as a
    ``ModelVersion`` and make it the active one only if its held-out AUC beats the active
    model's (or the prior's) on the same held-out pairs, the latest ``HELD_OUT_SHARE``."""
    notices = _training_notices(now=now)
    active_texts = [_text_of(notice) for notice in active_notices(now=now)]
    text_model = TextModel.fit(active_texts + [_text_of(notice) for notice in notices])
    vocabulary = Vocabulary.load()
    counts = engagement_counts()
    side = notice_side(
        notices, vocabulary=vocabulary, text_model=text_model, popularity={}, now=now
    )
    pairs = _labelled_pairs(side, vocabulary, text_model)
    order = np.argsort(np.asarray([t.timestamp() for t in pairs.times]), kind="stable")
    cut = int(round(len(order) * (1 - HELD_OUT_SHARE)))
    train, held = order[:cut], order[cut:]
    labels = np.asarray(pairs.labels, dtype=np.int64)
    too_few = _too_few(labels, train, held)
    if too_few:
        return TrainingOutcome(version=None, promoted=False, reason=too_few)

    past = past_notices({nid for entries in pairs.histories.values() for nid, _w, _d in entries})
    features = _pair_features(pairs, side, notices, past, vocabulary, text_model, counts, now)
    ranker = fit_ranker(
        features[train], labels[train], groups=np.asarray(pairs.resident_ids)[train]
    )
    current = active_model(notice_texts=active_texts)
    current_features = features.copy()
    current_features[:, FEATURES.index("text")] = _text_column(
        pairs, notices, past, current.text_model
    )
    auc_new = held_out_auc(features[held], labels[held], ranker.weights, ranker.bias)
    auc_current = held_out_auc(current_features[held], labels[held], current.weights, current.bias)
    version = ModelVersion(
        trained_from=min(pairs.times),
        trained_to=max(pairs.times),
        features=list(FEATURES),
        weights=ranker.weights,
        bias=ranker.bias,
        text_model=pickle.dumps(text_model),
        training_pairs=len(train),
        metrics={
            "auc_new": round(auc_new, 6),
            "auc_current": round(auc_current, 6),
            "held_out_pairs": len(held),
            "held_out_positives": int(labels[held].sum()),
            "training_positives": int(labels[train].sum()),
            "current_version": current.version_id,
        },
    )
    promoted = auc_new > auc_current
    against = f"model #{current.version_id}" if current.version_id else "the prior"
    version.note = (
        f"promoted: held-out AUC {auc_new:.4f} against {auc_current:.4f} of {against}"
        if promoted
        else f"kept {against}: held-out AUC {auc_new:.4f}, not above its {auc_current:.4f}"
    )
    _store(version, promote=promoted, now=now)
    return TrainingOutcome(version=version, promoted=promoted, reason=version.note)


def _training_notices(*, now: datetime) -> list[Notice]:
    """The notices residents can have interacted with lately: published in the window (expired
    or withdrawn since, too), real, and ranked by feeds (not school letters)."""
    return list(
        Notice.objects.filter(
            published_at__isnull=False,
            published_at__lte=now,
            published_at__gte=now - TRAINING_WINDOW,
            is_exercise=False,
        )
        .exclude(category=Category.SCHOOL)
        .order_by("pk")
    )


def _text_of(notice: Notice) -> str:
    return notice_text(notice.title_ja, notice.body_ja, notice.title_en, notice.body_en)


def _labelled_pairs(side: Notices, vocabulary: Vocabulary, text_model: TextModel) -> _Pairs:
    """Every (resident, notice) interaction of the training notices that the gate returns for
    the personalised home page: opened or saved → 1, shown and not opened → 0, set aside → 0.
    A resident who does not share interaction history for it has no interactions in the chunk,
    so contributes nothing."""
    pairs = _Pairs()
    row_of = {int(pk): row for row, pk in enumerate(side.ids)}
    for id_range in resident_id_ranges(
        purpose=PurposeCode.PERSONALISED_HOME, size=settings.RECOMMENDER_RANGE_SIZE
    ):
        for chunk in resident_chunks(id_range=id_range, chunk_size=CHUNK_SIZE, reader=TRAINER):
            if not chunk.interaction_notice_ids:
                continue
            residents = resident_side(
                chunk, notices=side, vocabulary=vocabulary, text_model=text_model
            )
            _add_chunk(pairs, chunk, residents, row_of)
    return pairs


def _add_chunk(
    pairs: _Pairs, chunk: ProfileChunk, residents: Residents, row_of: dict[int, int]
) -> None:
    events = list(
        zip(
            chunk.interaction_resident_index or (),
            chunk.interaction_notice_ids or (),
            chunk.interaction_shown_counts or (),
            chunk.interaction_first_shown_at or (),
            chunk.interaction_opened_at or (),
            chunk.interaction_saved_at or (),
            chunk.interaction_dismissed_at or (),
            strict=True,
        )
    )
    by_row: dict[int, list[tuple[int, datetime | None, datetime | None]]] = defaultdict(list)
    for row, nid, _shown, _first, opened, saved, _dismissed in events:
        by_row[row].append((nid, opened, saved))
    rows_of_pairs: list[int] = []
    for row, nid, shown, first_shown, opened, saved, dismissed in events:
        when = first_shown or min((t for t in (opened, saved, dismissed) if t), default=None)
        if nid not in row_of or when is None:
            continue
        index = len(pairs)
        pairs.resident_ids.append(chunk.resident_ids[row])
        pairs.notice_rows.append(row_of[nid])
        pairs.labels.append(0 if dismissed else int(bool(opened or saved)))
        pairs.times.append(when)
        pairs.own_shown.append(float(shown))
        pairs.own_engaged.append((1.0 if opened else 0.0) + (2.0 if saved else 0.0))
        # What the resident had opened and saved before this notice was shown: the history the
        # scorer would have had then (not the pair's own outcome, nor anything later).
        pairs.histories[index] = [
            (other, weight, False)
            for other, other_opened, other_saved in by_row[row]
            if other != nid and (weight := _weight_before(other_opened, other_saved, when))
        ]
        rows_of_pairs.append(row)
    if rows_of_pairs:
        # The residents' shared attributes, one row per pair; the history columns are the pairs'
        # own (``_pair_features``).
        pairs.attributes.append(take_rows(residents, rows_of_pairs))


def _weight_before(opened: datetime | None, saved: datetime | None, when: datetime) -> float:
    return (OPEN_WEIGHT if opened and opened < when else 0.0) + (
        SAVE_WEIGHT if saved and saved < when else 0.0
    )


def _too_few(labels: NDArray[np.int64], train: NDArray[Any], held: NDArray[Any]) -> str:
    if len(labels) < MIN_TRAINING_PAIRS:
        return f"{len(labels)} labelled pairs, fewer than {MIN_TRAINING_PAIRS}: nothing trained"
    for part, rows in (("training", train), ("held-out", held)):
        if np.unique(labels[rows]).size < 2:
            return f"the {part} pairs are all of one label: nothing trained"
    return ""


def _pair_features(
    pairs: _Pairs,
    side: Notices,
    notices: Sequence[Notice],
    past: Mapping[int, PastNotice],
    vocabulary: Vocabulary,
    text_model: TextModel,
    counts: Mapping[int, tuple[float, float]],
    now: datetime,
) -> NDArray[np.float32]:
    """P × FEATURES as the scorer would have seen each pair when it was shown: history up to
    then, the notice's recency then, and its popularity without the pair's own counts."""
    p = len(pairs)
    attributes = _stacked(pairs.attributes, side)
    everyone = range(p)
    residents = Residents(
        ids=attributes.ids,
        areas=attributes.areas,
        age_bands=attributes.age_bands,
        audiences=attributes.audiences,
        interests=attributes.interests,
        category_affinity=category_affinity(pairs.histories, past, vocabulary, p),
        text=text_profiles(pairs.histories, past, text_model, p),
        dismissed=sparse.csr_matrix((p, len(side)), dtype=np.float32),
    )
    notice_rows = np.asarray(pairs.notice_rows, dtype=np.int64)
    features = pair_features(residents, side, np.arange(p, dtype=np.int64), notice_rows)
    published = [notices[row].published_at or now for row in pairs.notice_rows]
    features[:, FEATURES.index("recency")] = recency_of(
        np.maximum([(pairs.times[i] - published[i]).total_seconds() / 3600 for i in everyone], 0.0)
    )
    features[:, FEATURES.index("popularity")] = _popularity_without_own(pairs, side, counts)
    return features


def _stacked(parts: list[Residents], side: Notices) -> Residents:
    return Residents(
        ids=np.concatenate([part.ids for part in parts]),
        areas=sparse.vstack([part.areas for part in parts]).tocsr(),
        age_bands=sparse.vstack([part.age_bands for part in parts]).tocsr(),
        audiences=sparse.vstack([part.audiences for part in parts]).tocsr(),
        interests=sparse.vstack([part.interests for part in parts]).tocsr(),
        category_affinity=np.vstack([part.category_affinity for part in parts]),
        text=np.vstack([part.text for part in parts]),
        dismissed=sparse.csr_matrix((sum(len(part) for part in parts), len(side))),
    )


def _popularity_without_own(
    pairs: _Pairs, side: Notices, counts: Mapping[int, tuple[float, float]]
) -> NDArray[np.float32]:
    """Each pair's notice's popularity from the anonymous counts, less the pair's own showings
    and opens: the label must not be among the features."""
    notice_ids = side.ids[np.asarray(pairs.notice_rows, dtype=np.int64)].tolist()
    shown = np.asarray([counts.get(nid, (0.0, 0.0))[0] for nid in notice_ids])
    engaged = np.asarray([counts.get(nid, (0.0, 0.0))[1] for nid in notice_ids])
    total_shown = sum(value[0] for value in counts.values())
    total_engaged = sum(value[1] for value in counts.values())
    return popularity_rates(
        np.maximum(shown - np.asarray(pairs.own_shown), 0.0),
        np.maximum(engaged - np.asarray(pairs.own_engaged), 0.0),
        overall_rate(total_shown, total_engaged),
    )


def _text_column(
    pairs: _Pairs, notices: Sequence[Notice], past: Mapping[int, PastNotice], model: TextModel
) -> NDArray[np.float32]:
    """The text feature of every pair under another text model (the active version's)."""
    profiles = text_profiles(pairs.histories, past, model, len(pairs))
    texts = model.embed([_text_of(notice) for notice in notices])[pairs.notice_rows]
    similarity = np.einsum("pd,pd->p", profiles, texts)
    return np.asarray(np.clip(similarity, 0.0, 1.0), dtype=np.float32)


def _store(version: ModelVersion, *, promote: bool, now: datetime) -> None:
    """Save the version; if promoted, it replaces the active one in the same transaction (at
    most one is active: the database's constraint holds in between too)."""
    with transaction.atomic():
        if promote:
            ModelVersion.objects.select_for_update().filter(is_active=True).update(is_active=False)
            version.is_active = True
            version.promoted_at = now
        version.save()
