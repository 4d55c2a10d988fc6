"""The baseline scorers and the evaluation loop, on hand-made impressions and the fixture."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from recommendations.evaluation.baselines import (
    MostPopularScorer,
    MostRecentScorer,
    RandomScorer,
    Scorer,
    evaluate,
)
from recommendations.evaluation.metrics import impression_metrics, mean_metrics
from recommendations.evaluation.mind import Impression, read_behaviors
from tests.recommendations.mind_data import MIND_TINY, make_impression

MONDAY = datetime(2019, 11, 11, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def mind_tiny_train() -> list[Impression]:
    return read_behaviors(MIND_TINY / "train" / "behaviors.tsv")


@pytest.fixture(scope="module")
def mind_tiny_test() -> list[Impression]:
    return read_behaviors(MIND_TINY / "test" / "behaviors.tsv")


def fitted(scorer: Scorer, train: list[Impression]) -> Scorer:
    scorer.fit(train)
    return scorer


@pytest.mark.parametrize(
    "make",
    [lambda: RandomScorer(seed=1), MostPopularScorer, MostRecentScorer],
    ids=["random", "most-popular", "most-recent"],
)
def test_every_scorer_gives_one_score_per_candidate(make: Callable[[], Scorer]) -> None:
    scorer = make()
    scorer.fit([make_impression()])

    scores = scorer.score(make_impression(candidates=("N1", "N5", "N6"), labels=(0, 0, 1)))

    assert scores.shape == (3,)


def test_random_scores_are_reproducible_from_the_seed() -> None:
    impression = make_impression(candidates=("N1", "N2", "N3"), labels=(1, 0, 0))

    first, second = RandomScorer(seed=3), RandomScorer(seed=3)

    assert np.array_equal(first.score(impression), second.score(impression))


def test_most_popular_scores_each_candidate_by_its_clicks_in_training() -> None:
    scorer = MostPopularScorer()
    scorer.fit(
        [
            make_impression("1", candidates=("N1", "N2"), labels=(1, 0)),
            make_impression("2", candidates=("N1", "N2", "N3"), labels=(1, 1, 0)),
        ]
    )

    scores = scorer.score(make_impression(candidates=("N3", "N2", "N1", "N9"), labels=None))

    assert scores.tolist() == [0, 1, 2, 0]


def test_most_popular_learns_an_impressions_clicks() -> None:
    scorer = MostPopularScorer()
    scorer.fit([])

    scorer.learn(make_impression(candidates=("N1", "N2"), labels=(0, 1)))

    assert scorer.score(make_impression(candidates=("N1", "N2"))).tolist() == [0, 1]


def test_most_recent_scores_a_candidate_by_when_it_was_first_shown() -> None:
    scorer = MostRecentScorer()
    scorer.fit(
        [
            make_impression("2", time=MONDAY + timedelta(hours=1), candidates=("N1", "N2")),
            make_impression("1", time=MONDAY, candidates=("N1", "N3")),
        ]
    )

    scores = scorer.score(make_impression(time=MONDAY + timedelta(days=1), candidates=("N1", "N2")))

    assert scores.tolist() == [MONDAY.timestamp(), (MONDAY + timedelta(hours=1)).timestamp()]


def test_most_recent_scores_a_never_seen_candidate_as_shown_first_now() -> None:
    scorer = MostRecentScorer()
    scorer.fit([make_impression(time=MONDAY, candidates=("N1", "N2"))])
    tuesday = MONDAY + timedelta(days=1)

    scores = scorer.score(make_impression(time=tuesday, candidates=("N1", "N7")))

    assert scores.tolist() == [MONDAY.timestamp(), tuesday.timestamp()]


def test_most_popular_beats_random_on_the_fixture(
    mind_tiny_train: list[Impression], mind_tiny_test: list[Impression]
) -> None:
    random = evaluate(fitted(RandomScorer(seed=0), mind_tiny_train), mind_tiny_test, replay=False)
    popular = evaluate(fitted(MostPopularScorer(), mind_tiny_train), mind_tiny_test, replay=False)

    assert popular.auc > random.auc + 0.1
    assert popular.mrr > random.mrr
    assert popular.ndcg10 > random.ndcg10


def test_replay_lets_most_popular_learn_from_the_test_days_clicks(
    mind_tiny_train: list[Impression], mind_tiny_test: list[Impression]
) -> None:
    without_replay = evaluate(
        fitted(MostPopularScorer(), mind_tiny_train), mind_tiny_test, replay=False
    )
    with_replay = evaluate(
        fitted(MostPopularScorer(), mind_tiny_train), mind_tiny_test, replay=True
    )

    assert with_replay != without_replay


def test_without_replay_the_scorer_learns_nothing_from_the_test(
    mind_tiny_train: list[Impression], mind_tiny_test: list[Impression]
) -> None:
    scorer = fitted(MostPopularScorer(), mind_tiny_train)
    before = [scorer.score(impression).tolist() for impression in mind_tiny_test]

    evaluate(scorer, mind_tiny_test, replay=False)

    assert [scorer.score(impression).tolist() for impression in mind_tiny_test] == before


def test_replay_learns_each_impression_only_after_scoring_it() -> None:
    scorer = MostPopularScorer()
    scorer.fit([])
    first = make_impression("1", time=MONDAY, candidates=("N1", "N2"), labels=(0, 1))
    second = make_impression(
        "2", time=MONDAY + timedelta(hours=1), candidates=("N1", "N2"), labels=(0, 1)
    )

    # Given in reverse: the first in time is scored with nothing learned, so its click on N2,
    # tied with N1 at nought, ranks second (MRR 1/2); the second has learned it (MRR 1).
    metrics = evaluate(scorer, [second, first], replay=True)

    assert metrics.mrr == 0.75


def test_evaluate_returns_the_mean_of_the_per_impression_metrics(
    mind_tiny_train: list[Impression], mind_tiny_test: list[Impression]
) -> None:
    scorer = fitted(MostPopularScorer(), mind_tiny_train)
    expected = mean_metrics(
        impression_metrics(impression.labels, scorer.score(impression))
        for impression in mind_tiny_test
        if impression.labels is not None
    )

    assert evaluate(scorer, mind_tiny_test, replay=False) == expected
    assert expected.judged == len(mind_tiny_test)


def test_evaluate_refuses_unlabelled_impressions() -> None:
    scorer = MostPopularScorer()
    scorer.fit([])

    with pytest.raises(ValueError, match="no labels"):
        evaluate(scorer, [make_impression(labels=None)], replay=False)
