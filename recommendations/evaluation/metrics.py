"""Per-impression ranking metrics as MIND's official evaluation script defines them.

AUC (scikit-learn's), MRR and nDCG@5/@10 of one impression's candidates, averaged over
impressions. The script ranks with `np.argsort(score)[::-1]`, which leaves the order of tied
scores to NumPy's sort; here ties go to the earlier candidate, the same rule as
`leaderboard_ranks`, so metrics computed from scores and from a leaderboard file agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import roc_auc_score


@dataclass(frozen=True)
class ImpressionMetrics:
    auc: float
    mrr: float
    ndcg5: float
    ndcg10: float


@dataclass(frozen=True)
class Metrics:
    """Means over the judged impressions; `skipped` had labels all of one class."""

    auc: float
    mrr: float
    ndcg5: float
    ndcg10: float
    judged: int
    skipped: int


def impression_metrics(labels: ArrayLike, scores: ArrayLike) -> ImpressionMetrics | None:
    """The metrics of one impression, or None when its labels are all one class.

    AUC is undefined without both a click and a skip, and MRR divides by the clicks, so MIND's
    script would fail or give NaN there; such impressions are left out of the means.
    """
    label_array = np.asarray(labels, dtype=np.float64)
    score_array = np.asarray(scores, dtype=np.float64)
    if label_array.shape != score_array.shape:
        raise ValueError(f"{label_array.size} labels but {score_array.size} scores")
    if np.unique(label_array).size < 2:
        return None
    return ImpressionMetrics(
        auc=float(roc_auc_score(label_array, score_array)),
        mrr=mrr(label_array, score_array),
        ndcg5=ndcg(label_array, score_array, k=5),
        ndcg10=ndcg(label_array, score_array, k=10),
    )


def mean_metrics(per_impression: Iterable[ImpressionMetrics | None]) -> Metrics:
    """The mean of each metric over impressions, counting the unjudgeable ones (None)."""
    everything = list(per_impression)
    judged = [metrics for metrics in everything if metrics is not None]
    skipped = len(everything) - len(judged)
    if not judged:
        raise ValueError("no impression had both a click and a skip to judge")
    return Metrics(
        auc=_mean(metrics.auc for metrics in judged),
        mrr=_mean(metrics.mrr for metrics in judged),
        ndcg5=_mean(metrics.ndcg5 for metrics in judged),
        ndcg10=_mean(metrics.ndcg10 for metrics in judged),
        judged=len(judged),
        skipped=skipped,
    )


def mrr(labels: NDArray[np.float64], scores: NDArray[np.float64]) -> float:
    """The sum of 1/rank over the clicked candidates, divided by how many were clicked."""
    ranked_labels = labels[_best_first(scores)]
    reciprocal_ranks = ranked_labels / np.arange(1, ranked_labels.size + 1)
    return float(reciprocal_ranks.sum() / labels.sum())


def ndcg(labels: NDArray[np.float64], scores: NDArray[np.float64], *, k: int) -> float:
    """DCG of the top k (gain 2^label - 1, discount log2(rank + 1)) over the ideal top k's."""
    return _dcg(labels, scores, k) / _dcg(labels, labels, k)


def leaderboard_ranks(scores: ArrayLike) -> list[int]:
    """Each candidate's 1-based rank by score, highest first, ties to the earlier candidate."""
    order = _best_first(np.asarray(scores, dtype=np.float64))
    ranks = np.empty(order.size, dtype=np.int64)
    ranks[order] = np.arange(1, order.size + 1)
    return [int(rank) for rank in ranks]


def write_predictions(path: Path, rows: Iterable[tuple[str, ArrayLike]]) -> None:
    """Write MIND's leaderboard `prediction.txt`: `ImpressionID [r1,r2,...]` a line."""
    with path.open("w", encoding="utf-8", newline="\n") as file:
        for impression_id, scores in rows:
            ranks = ",".join(str(rank) for rank in leaderboard_ranks(scores))
            file.write(f"{impression_id} [{ranks}]\n")


def _best_first(scores: NDArray[np.float64]) -> NDArray[np.intp]:
    # A stable sort of the negated scores keeps tied candidates in their shown order.
    return np.argsort(-scores, kind="stable")


def _dcg(labels: NDArray[np.float64], scores: NDArray[np.float64], k: int) -> float:
    top_labels = labels[_best_first(scores)][:k]
    gains = 2.0**top_labels - 1
    discounts = np.log2(np.arange(2, top_labels.size + 2))
    return float((gains / discounts).sum())


def _mean(values: Iterable[float]) -> float:
    return float(np.mean(list(values)))
