"""The production scorer on MIND: news as notices, users as residents, features computed by the
portal's own functions, learning only from impressions already scored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from recommendations.evaluation.baselines import MostPopularScorer, evaluate
from recommendations.evaluation.mind import Impression, MindNews, read_behaviors, read_news
from recommendations.evaluation.pipeline import ModelScorer, NewsCatalogue, first_shown
from recommendations.features import RECENCY_HALF_LIFE
from recommendations.scoring import FEATURES, weight_vector
from recommendations.training import FittedRanker
from tests.recommendations.mind_data import MIND_TINY, make_impression

MONDAY = datetime(2019, 11, 11, 9, tzinfo=UTC)


def column(name: str) -> int:
    return FEATURES.index(name)


def news_item(news_id: str, category: str, title: str) -> MindNews:
    return MindNews(news_id, category, category, title, f"{title} in detail")


NEWS = {
    item.news_id: item
    for item in [
        news_item("S1", "sports", "football cup final tonight"),
        news_item("S2", "sports", "football league results"),
        news_item("S3", "sports", "tennis open final"),
        news_item("F1", "finance", "stock markets fall"),
        news_item("F2", "finance", "interest rates rise"),
        news_item("F3", "finance", "bank profits grow"),
        news_item("W1", "weather", "snow expected tomorrow"),
        news_item("W2", "weather", "storm warning for the coast"),
        news_item("W3", "weather", "sunny weekend ahead"),
    ]
}


def catalogue_of(*impressions: Impression) -> NewsCatalogue:
    return NewsCatalogue.build(news=NEWS, train_news=NEWS, impressions=impressions)


def test_a_candidates_score_is_the_weighted_sum_of_its_features() -> None:
    impression = make_impression(candidates=("S1", "F1", "X9"), labels=(1, 0, 0), history=("S2",))
    weights = {"category": 2.0, "text": 1.0, "recency": 0.5, "popularity": 3.0}
    scorer = ModelScorer(catalogue_of(impression), FittedRanker(weights=weights, bias=0.25))

    scores = scorer.score(impression)

    expected = scorer.features(impression) @ weight_vector(weights) + 0.25
    assert scores == pytest.approx(expected.astype(np.float64), abs=1e-5)


def test_a_users_clicks_give_category_affinity_as_the_portal_builds_it() -> None:
    impression = make_impression(candidates=("S3", "F1"), labels=(1, 0), history=("S1", "S2"))
    scorer = ModelScorer(catalogue_of(impression))

    features = scorer.features(impression)

    assert features[:, column("category")].tolist() == [1.0, 0.0]
    assert features[0, column("text")] > features[1, column("text")]


def test_news_missing_from_news_tsv_get_no_category_affinity_or_text() -> None:
    impression = make_impression(candidates=("X1", "S3"), labels=(0, 1), history=("X2", "S1"))
    scorer = ModelScorer(catalogue_of(impression))

    features = scorer.features(impression)

    assert features[0, column("category")] == 0.0
    assert features[0, column("text")] == 0.0
    # The unknown clicked news does not dilute the known one's category.
    assert features[1, column("category")] == 1.0


def test_targeting_and_urgency_features_are_nought_for_news() -> None:
    impression = make_impression(candidates=("S1", "F1"), labels=(1, 0), history=("S2",))
    scorer = ModelScorer(catalogue_of(impression))

    features = scorer.features(impression)

    for name in ("area", "age", "school", "interest", "urgency"):
        assert not features[:, column(name)].any()


def test_recency_counts_from_the_first_impression_that_showed_the_news() -> None:
    earlier = make_impression("1", time=MONDAY, candidates=("S1", "F1"), labels=(1, 0))
    later = make_impression(
        "2", time=MONDAY + RECENCY_HALF_LIFE, candidates=("S1", "F2"), labels=(1, 0)
    )
    scorer = ModelScorer(catalogue_of(earlier, later))

    features = scorer.features(later)

    assert features[:, column("recency")].tolist() == [0.5, 1.0]


def test_first_shown_is_the_earliest_impression_whatever_the_order() -> None:
    late = make_impression("2", time=MONDAY + timedelta(hours=3), candidates=("S1",), labels=(1,))
    early = make_impression("1", time=MONDAY, candidates=("S1",), labels=(1,))

    assert first_shown([late, early]) == {"S1": MONDAY}


def test_learning_an_impression_raises_its_clicked_news_popularity_above_the_skipped() -> None:
    shown = make_impression(candidates=("S1", "F1"), labels=(1, 0))
    scorer = ModelScorer(catalogue_of(shown))
    before = scorer.features(shown)[:, column("popularity")]

    scorer.learn(shown)

    after = scorer.features(shown)[:, column("popularity")]
    assert before[0] == before[1]
    assert after[0] > after[1]


def test_learning_an_impression_adds_its_clicks_to_the_users_history() -> None:
    shown = make_impression(candidates=("S1", "F1"), labels=(1, 0), user_id="U7")
    scorer = ModelScorer(catalogue_of(shown))
    next_one = make_impression("2", candidates=("S2", "F2"), labels=(1, 0), user_id="U7")

    scorer.learn(shown)

    assert scorer.features(next_one)[:, column("category")].tolist() == [1.0, 0.0]


def test_replay_scores_an_impression_before_learning_its_own_clicks() -> None:
    # X1 is unseen: clicked in both impressions. The first must be scored with no benefit from
    # its own click (as before anything of the test was learned), the second with it learned.
    first = make_impression("1", time=MONDAY, candidates=("F1", "X1"), labels=(0, 1))
    second = make_impression(
        "2", time=MONDAY + timedelta(minutes=1), candidates=("F1", "X1"), labels=(0, 1)
    )
    scored: list[list[float]] = []

    class Recording(ModelScorer):
        def score(self, impression: Impression) -> np.ndarray:
            scores = super().score(impression)
            scored.append(scores.tolist())
            return scores

    scorer = Recording(catalogue_of(first, second), FittedRanker({"popularity": 1.0}, 0.0))
    scorer.learn(make_impression("0", time=MONDAY, candidates=("F1", "S1"), labels=(0, 1)))
    before_the_test = scorer.copy().score(first).tolist()
    scored.clear()

    evaluate(scorer, [second, first], replay=True)

    assert scored[0] == before_the_test
    assert scored[1][1] > scored[0][1]


def test_without_replay_nothing_is_learned_from_the_test() -> None:
    first = make_impression("1", time=MONDAY, candidates=("F1", "X1"), labels=(0, 1))
    scorer = ModelScorer(catalogue_of(first), FittedRanker({"popularity": 1.0}, 0.0))
    before = scorer.score(first).tolist()

    evaluate(scorer, [first], replay=False)

    assert scorer.score(first).tolist() == before


def test_a_copy_learns_apart_from_the_original() -> None:
    shown = make_impression(candidates=("S1", "F1"), labels=(1, 0))
    scorer = ModelScorer(catalogue_of(shown), FittedRanker({"popularity": 1.0}, 0.0))
    twin = scorer.copy()

    twin.learn(shown)

    assert scorer.score(shown)[0] == scorer.score(shown)[1]
    assert twin.score(shown)[0] > twin.score(shown)[1]


def test_fitting_on_the_fixture_learns_non_negative_weights_and_beats_most_popular() -> None:
    train = read_behaviors(MIND_TINY / "train" / "behaviors.tsv")
    test = read_behaviors(MIND_TINY / "test" / "behaviors.tsv")
    news = {
        **read_news(MIND_TINY / "train" / "news.tsv"),
        **read_news(MIND_TINY / "test" / "news.tsv"),
    }
    catalogue = NewsCatalogue.build(
        news=news, train_news=read_news(MIND_TINY / "train" / "news.tsv"), impressions=train + test
    )
    model = ModelScorer(catalogue)
    model.fit(train)
    popular = MostPopularScorer()
    popular.fit(train)

    assert all(weight >= 0 for weight in model.ranker.weights.values())
    assert model.training_pairs > 0
    assert evaluate(model, test, replay=False).auc > evaluate(popular, test, replay=False).auc
