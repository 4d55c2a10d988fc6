"""The production scorer on MIND: news as notices, users as residents, the same features.

Every feature is computed by the functions the portal uses (``recommendations.features`` and
``recommendations.scoring``), from what MIND has instead of the portal's tables:

- a news item is a notice with no targeting (everyone may see it) and urgency 0; its category is
  a column of a vocabulary of MIND's categories (news missing from news.tsv get a column that no
  history fills); its text is its title and abstract through a ``TextModel`` fitted on the
  training news; it is "published" when it is first shown in any impression (MIND has no
  publication time; the candidates shown, never the clicks, say when it appeared, as a notice's
  ``published_at`` does in the portal), and its recency is its age at each impression;
- its popularity is its click-through rate, smoothed as ``features.popularity_rates`` smooths
  opens per showing, from the impressions learned so far;
- a user is a resident who shared nothing but interaction history: their clicks (MIND's history,
  then each impression's clicks learned) give category affinity and a text profile exactly as
  ``features.resident_side`` builds them from opens.

``ModelScorer`` follows the baselines' Scorer protocol, so ``baselines.evaluate`` runs it under
both protocols: ``fit`` replays the training impressions in time order, taking each one's
features before learning its clicks, and fits the weights (``training.fit_ranker``) on them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from recommendations.evaluation.baselines import (
    MostPopularScorer,
    MostRecentScorer,
    RandomScorer,
    Scorer,
    evaluate,
)
from recommendations.evaluation.metrics import Metrics
from recommendations.evaluation.mind import Impression, MindNews
from recommendations.features import (
    OPEN_WEIGHT,
    Interacted,
    PastNotice,
    Vocabulary,
    category_affinity,
    notice_text,
    overall_rate,
    popularity_rates,
    recency_of,
    text_profiles,
)
from recommendations.scoring import (
    FEATURES,
    PRIOR_WEIGHTS,
    Notices,
    Residents,
    pair_features,
    score_matrix,
    weight_vector,
)
from recommendations.text import TextModel
from recommendations.training import FittedRanker, fit_ranker

# The category column of news that news.tsv does not describe (most of MIND's candidates in a
# sample): no history fills it, so such news get no category affinity.
UNKNOWN_CATEGORY = ""
PROTOCOLS = ("strict", "replay")


@dataclass(frozen=True)
class NewsCatalogue:
    """What is known of each news item without a single click."""

    numbers: dict[str, int]  # news id → the integer id a Notices row carries
    vocabulary: Vocabulary  # only its categories are used
    category_columns: dict[str, int]  # news id → category column (known news only)
    text_vectors: dict[str, NDArray[np.float32]]  # known news only
    past: dict[int, PastNotice]  # known news by number, as the portal's past notices
    published: dict[str, datetime]  # first shown in any impression
    text_model: TextModel

    @classmethod
    def build(
        cls,
        *,
        news: Mapping[str, MindNews],
        train_news: Mapping[str, MindNews],
        impressions: Iterable[Impression],
    ) -> NewsCatalogue:
        """``news``: every item described (train and test); the text model learns only from
        ``train_news``; publication times come from the candidates of ``impressions``."""
        impressions = list(impressions)
        categories = sorted({item.category for item in news.values()} | {UNKNOWN_CATEGORY})
        vocabulary = Vocabulary(
            areas={},
            bands={},
            audiences={},
            interests={},
            categories={name: column for column, name in enumerate(categories)},
            interest_ids={},
            covering=np.full((1, 1), -1, dtype=np.int64),  # news has no areas
        )
        text_model = TextModel.fit([_text(item) for item in train_news.values()])
        known = list(news)
        vectors = text_model.embed([_text(news[news_id]) for news_id in known])
        numbers = _numbered(known, impressions)
        return cls(
            numbers=numbers,
            vocabulary=vocabulary,
            category_columns={
                news_id: vocabulary.categories[news[news_id].category] for news_id in known
            },
            text_vectors=dict(zip(known, vectors, strict=True)),
            past={
                numbers[news_id]: PastNotice(news[news_id].category, _text(news[news_id]))
                for news_id in known
            },
            published=first_shown(impressions),
            text_model=text_model,
        )

    def number(self, news_id: str) -> int:
        return self.numbers.get(news_id, -1)


def _text(item: MindNews) -> str:
    return notice_text(item.title, item.abstract)


def _numbered(known: Sequence[str], impressions: Sequence[Impression]) -> dict[str, int]:
    numbers: dict[str, int] = {}
    every_id = [*known]
    for impression in impressions:
        every_id += impression.candidates
        every_id += impression.history
    for news_id in every_id:
        numbers.setdefault(news_id, len(numbers))
    return numbers


def first_shown(impressions: Iterable[Impression]) -> dict[str, datetime]:
    """When each news item was first a candidate: its publication, as far as MIND tells."""
    published: dict[str, datetime] = {}
    for impression in impressions:
        for news_id in impression.candidates:
            known = published.get(news_id)
            if known is None or impression.time < known:
                published[news_id] = impression.time
    return published


@dataclass
class _Learned:
    """What the scorer has learned from impressions: showings and clicks of each news item,
    and each user's clicks."""

    shown: Counter[str] = field(default_factory=Counter)
    clicks: Counter[str] = field(default_factory=Counter)
    total_shown: int = 0
    total_clicks: int = 0
    clicked_by: dict[str, list[str]] = field(default_factory=dict)

    def copy(self) -> _Learned:
        return _Learned(
            shown=Counter(self.shown),
            clicks=Counter(self.clicks),
            total_shown=self.total_shown,
            total_clicks=self.total_clicks,
            clicked_by={user: list(clicked) for user, clicked in self.clicked_by.items()},
        )


class ModelScorer:
    """The portal's linear scorer with learned weights, as a baselines.Scorer."""

    def __init__(self, catalogue: NewsCatalogue, ranker: FittedRanker | None = None) -> None:
        self.catalogue = catalogue
        self.ranker = ranker or FittedRanker(weights=dict(PRIOR_WEIGHTS), bias=0.0)
        self.training_pairs = 0
        self._learned = _Learned()

    def fit(self, train: Sequence[Impression]) -> None:
        """Replay ``train`` in time order: each judged impression's features as they were before
        its clicks were learned, then fit the weights on all of them."""
        self._learned = _Learned()
        features: list[NDArray[np.float32]] = []
        labels: list[NDArray[np.int64]] = []
        groups: list[NDArray[np.int64]] = []
        for number, impression in enumerate(sorted(train, key=lambda i: i.time)):
            if impression.labels is not None and len(set(impression.labels)) == 2:
                features.append(self.features(impression))
                labels.append(np.asarray(impression.labels, dtype=np.int64))
                groups.append(np.full(len(impression.candidates), number, dtype=np.int64))
            self.learn(impression)
        if not features:
            raise ValueError("no training impression has both a click and a skip")
        self.ranker = fit_ranker(
            np.vstack(features), np.concatenate(labels), groups=np.concatenate(groups)
        )
        self.training_pairs = sum(len(rows) for rows in labels)

    def copy(self) -> ModelScorer:
        """The same fitted scorer with its own learned state (one per protocol)."""
        twin = ModelScorer(self.catalogue, self.ranker)
        twin.training_pairs = self.training_pairs
        twin._learned = self._learned.copy()
        return twin

    def score(self, impression: Impression) -> NDArray[np.float64]:
        residents, notices = self.sides(impression)
        scores = score_matrix(
            residents, notices, weight_vector(self.ranker.weights), self.ranker.bias
        )
        return np.asarray(scores[0], dtype=np.float64)

    def features(self, impression: Impression) -> NDArray[np.float32]:
        """Candidates × FEATURES, the values the score is a weighted sum of."""
        residents, notices = self.sides(impression)
        rows = np.arange(len(notices), dtype=np.int64)
        return pair_features(residents, notices, np.zeros_like(rows), rows)

    def learn(self, impression: Impression) -> None:
        learned = self._learned
        learned.shown.update(impression.candidates)
        learned.total_shown += len(impression.candidates)
        clicked = impression.clicked
        learned.clicks.update(clicked)
        learned.total_clicks += len(clicked)
        if clicked:
            learned.clicked_by.setdefault(impression.user_id, []).extend(clicked)

    def sides(self, impression: Impression) -> tuple[Residents, Notices]:
        notices = self._notice_side(impression)
        return self._user_side(impression, len(notices)), notices

    def _notice_side(self, impression: Impression) -> Notices:
        catalogue, learned = self.catalogue, self._learned
        candidates = impression.candidates
        k = len(candidates)
        unknown = catalogue.vocabulary.categories[UNKNOWN_CATEGORY]
        # A news item never shown before is being published now.
        ages_hours = np.maximum(
            [
                (
                    impression.time - catalogue.published.get(news_id, impression.time)
                ).total_seconds()
                / 3600
                for news_id in candidates
            ],
            0.0,
        )
        zero_text = np.zeros(catalogue.text_model.dimensions, dtype=np.float32)
        empty = sparse.csr_matrix((k, 0), dtype=np.float32)
        return Notices(
            ids=np.asarray([catalogue.number(news_id) for news_id in candidates], dtype=np.int64),
            categories=np.asarray(
                [catalogue.category_columns.get(news_id, unknown) for news_id in candidates],
                dtype=np.int64,
            ),
            recency=recency_of(ages_hours),
            urgency=np.zeros(k, dtype=np.float32),
            popularity=popularity_rates(
                np.asarray([learned.shown[news_id] for news_id in candidates], dtype=np.float64),
                np.asarray([learned.clicks[news_id] for news_id in candidates], dtype=np.float64),
                overall_rate(learned.total_shown, learned.total_clicks),
            ),
            areas=empty,
            age_bands=empty,
            audiences=empty,
            interests=empty,
            text=np.asarray(
                [catalogue.text_vectors.get(news_id, zero_text) for news_id in candidates],
                dtype=np.float32,
            ).reshape(k, catalogue.text_model.dimensions),
        )

    def _user_side(self, impression: Impression, notice_count: int) -> Residents:
        """One resident who shares only interaction history: what they clicked, each an open."""
        catalogue = self.catalogue
        clicked = [*impression.history, *self._learned.clicked_by.get(impression.user_id, ())]
        numbers = dict.fromkeys(catalogue.number(news_id) for news_id in clicked)
        interacted: Interacted = {0: [(number, OPEN_WEIGHT, False) for number in numbers]}
        empty = sparse.csr_matrix((1, 0), dtype=np.float32)
        return Residents(
            ids=np.zeros(1, dtype=np.int64),
            areas=empty,
            age_bands=empty,
            audiences=empty,
            interests=empty,
            category_affinity=category_affinity(
                interacted, catalogue.past, catalogue.vocabulary, 1
            ),
            text=text_profiles(interacted, catalogue.past, catalogue.text_model, 1),
            dismissed=sparse.csr_matrix((1, notice_count), dtype=np.float32),
        )


# ------------------------------------------------------------------------------------------------
# The whole evaluation, for the command
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """Each protocol's metrics of the model and of every baseline, and what the model learned."""

    metrics: dict[str, dict[str, Metrics]]  # protocol → scorer → metrics
    weights: dict[str, float]
    bias: float
    training_pairs: int
    train_impressions: int
    test_impressions: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "train_impressions": self.train_impressions,
            "test_impressions": self.test_impressions,
            "training_pairs": self.training_pairs,
            "weights": self.weights,
            "bias": self.bias,
            "protocols": {
                protocol: {
                    name: {
                        "auc": metrics.auc,
                        "mrr": metrics.mrr,
                        "ndcg5": metrics.ndcg5,
                        "ndcg10": metrics.ndcg10,
                        "judged": metrics.judged,
                        "skipped": metrics.skipped,
                    }
                    for name, metrics in by_scorer.items()
                }
                for protocol, by_scorer in self.metrics.items()
            },
        }


def baseline_scorers(seed: int) -> dict[str, Scorer]:
    return {
        "random": RandomScorer(seed=seed),
        "most-popular": MostPopularScorer(),
        "most-recent": MostRecentScorer(),
    }


def fitted_model(catalogue: NewsCatalogue, train: Sequence[Impression]) -> ModelScorer:
    model = ModelScorer(catalogue)
    model.fit(train)
    return model


def evaluate_all(
    model: ModelScorer,
    train: Sequence[Impression],
    test: Sequence[Impression],
    *,
    protocols: Sequence[str],
    seed: int = 0,
) -> Evaluation:
    """The fitted ``model`` and the baselines (fitted on ``train``) on ``test``, under each
    protocol; every scorer starts each protocol from what it learned in training."""
    metrics: dict[str, dict[str, Metrics]] = {}
    for protocol in protocols:
        replay = protocol == "replay"
        by_scorer: dict[str, Metrics] = {"model": evaluate(model.copy(), test, replay=replay)}
        for name, baseline in baseline_scorers(seed).items():
            baseline.fit(train)
            by_scorer[name] = evaluate(baseline, test, replay=replay)
        metrics[protocol] = by_scorer
    return Evaluation(
        metrics=metrics,
        weights={name: model.ranker.weights.get(name, 0.0) for name in FEATURES},
        bias=model.ranker.bias,
        training_pairs=model.training_pairs,
        train_impressions=len(train),
        test_impressions=len(test),
    )


def prediction_rows(
    model: ModelScorer, test: Sequence[Impression]
) -> list[tuple[str, NDArray[np.float64]]]:
    """The model's scores of each test impression, learning nothing from the test (MIND's
    leaderboard test set has no clicks to learn from), in the order given."""
    scorer = model.copy()
    return [(impression.impression_id, scorer.score(impression)) for impression in test]
