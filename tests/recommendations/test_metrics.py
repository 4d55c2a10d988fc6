"""AUC, MRR and nDCG as MIND's evaluation script defines them, and the leaderboard format."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score

from recommendations.evaluation.metrics import (
    ImpressionMetrics,
    impression_metrics,
    leaderboard_ranks,
    mean_metrics,
    write_predictions,
)


def judged(labels: ArrayLike, scores: ArrayLike) -> ImpressionMetrics:
    metrics = impression_metrics(labels, scores)
    assert metrics is not None
    return metrics


def test_mrr_averages_the_reciprocal_ranks_of_the_clicked_candidates() -> None:
    # Ranked by score: N1 (skip), N2 (click, rank 2), N4 (click, rank 3), N3 (skip).
    metrics = judged([0, 1, 0, 1], [0.9, 0.8, 0.1, 0.5])

    assert metrics.mrr == pytest.approx((1 / 2 + 1 / 3) / 2)


def test_ndcg_discounts_each_click_by_log2_of_its_rank_plus_one_against_the_ideal() -> None:
    metrics = judged([0, 1, 0, 1], [0.9, 0.8, 0.1, 0.5])

    dcg = 1 / math.log2(3) + 1 / math.log2(4)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert metrics.ndcg5 == pytest.approx(dcg / ideal)
    assert metrics.ndcg10 == pytest.approx(dcg / ideal)


def test_ndcg_at_k_counts_only_the_top_k_candidates() -> None:
    # The one click is ranked sixth: outside the top five, inside the top ten.
    metrics = judged([1, 0, 0, 0, 0, 0], [0.0, 0.6, 0.5, 0.4, 0.3, 0.2])

    assert metrics.ndcg5 == 0.0
    assert metrics.ndcg10 == pytest.approx(1 / math.log2(7))


def test_a_perfect_ranking_of_one_click_scores_one_on_every_metric() -> None:
    assert judged([0, 1, 0], [0.1, 0.9, 0.8]) == ImpressionMetrics(1.0, 1.0, 1.0, 1.0)


def test_mrr_of_several_clicks_stays_below_one_even_when_they_are_ranked_first() -> None:
    # MIND's definition: the second click, ranked second, adds 1/2, and the sum is divided by 2.
    assert judged([0, 1, 1], [0.1, 0.9, 0.8]).mrr == 0.75


def test_auc_is_scikit_learns() -> None:
    generator = np.random.default_rng(7)
    labels = [0, 1, 0, 0, 1, 0, 0, 1, 0, 0]
    scores = generator.random(10).tolist()

    assert judged(labels, scores).auc == roc_auc_score(labels, scores)


def test_every_metric_matches_minds_evaluation_script_on_untied_scores() -> None:
    generator = np.random.default_rng(11)
    for _ in range(50):
        size = int(generator.integers(2, 30))
        labels = np.zeros(size)
        labels[generator.choice(size, int(generator.integers(1, size)), replace=False)] = 1
        scores = generator.random(size)

        metrics = judged(labels, scores)

        assert metrics.mrr == pytest.approx(_script_mrr(labels, scores))
        assert metrics.ndcg5 == pytest.approx(_script_ndcg(labels, scores, 5))
        assert metrics.ndcg10 == pytest.approx(_script_ndcg(labels, scores, 10))


def test_tied_scores_rank_the_earlier_candidate_first() -> None:
    assert judged([0, 1], [0.5, 0.5]).mrr == 0.5
    assert judged([1, 0], [0.5, 0.5]).mrr == 1.0


@pytest.mark.parametrize("labels", [[0, 0, 0], [1, 1, 1]])
def test_an_impression_with_labels_all_of_one_class_is_not_judged(labels: list[int]) -> None:
    assert impression_metrics(labels, [0.3, 0.2, 0.1]) is None


def test_labels_and_scores_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="2 labels but 3 scores"):
        impression_metrics([0, 1], [0.3, 0.2, 0.1])


def test_mean_metrics_average_over_judged_impressions_and_count_the_skipped() -> None:
    first = ImpressionMetrics(auc=1.0, mrr=1.0, ndcg5=1.0, ndcg10=1.0)
    second = ImpressionMetrics(auc=0.5, mrr=0.25, ndcg5=0.5, ndcg10=0.75)

    metrics = mean_metrics(iter([first, None, second, None]))

    assert (metrics.auc, metrics.mrr, metrics.ndcg5, metrics.ndcg10) == (0.75, 0.625, 0.75, 0.875)
    assert (metrics.judged, metrics.skipped) == (2, 2)


def test_mean_metrics_of_nothing_judgeable_are_refused() -> None:
    with pytest.raises(ValueError, match="no impression"):
        mean_metrics([None])


def test_leaderboard_ranks_put_the_highest_score_first() -> None:
    assert leaderboard_ranks([0.1, 0.9, 0.5]) == [3, 1, 2]


def test_leaderboard_ranks_break_ties_by_position() -> None:
    assert leaderboard_ranks([0.5, 0.5, 0.9, 0.5]) == [2, 3, 1, 4]


def test_predictions_are_written_one_impression_a_line_with_no_spaces_in_brackets(
    tmp_path: Path,
) -> None:
    path = tmp_path / "prediction.txt"

    write_predictions(path, [("1", [0.1, 0.9, 0.5]), ("2", np.array([2.0, 3.0]))])

    assert path.read_text() == "1 [3,1,2]\n2 [2,1]\n"


def _script_mrr(labels: np.ndarray, scores: np.ndarray) -> float:
    # As MIND's evaluate.py computes it.
    ranked = labels[np.argsort(scores)[::-1]]
    return float(np.sum(ranked / (np.arange(len(ranked)) + 1)) / np.sum(ranked))


def _script_ndcg(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    def dcg(order_by: np.ndarray) -> float:
        top = labels[np.argsort(order_by)[::-1]][:k]
        return float(np.sum((2**top - 1) / np.log2(np.arange(len(top)) + 2)))

    return dcg(scores) / dcg(labels)
