"""The learned ranker: one weight per scorer feature, fitted with scikit-learn on pairs (resident,
notice) labelled by what the resident did, and its promotion when it beats the active model.

The weights stay interpretable and non-negative: ``scoring.explain`` names a feature as a reason
only where its weight is positive, so every feature either adds to a score or is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from recommendations.scoring import FEATURES, weight_vector

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
