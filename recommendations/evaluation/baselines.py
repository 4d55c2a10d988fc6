"""Baseline scorers for offline evaluation, and the evaluation loop that runs any scorer.

A scorer is fitted on the training impressions, then scores each test impression's candidates
(higher is better). Under the replay protocol it also learns from each test impression after
scoring it, as a live recommender would learn from today's clicks, never before it has ranked
them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from recommendations.evaluation.metrics import Metrics, impression_metrics, mean_metrics
from recommendations.evaluation.mind import Impression


class Scorer(Protocol):
    def fit(self, train: Sequence[Impression]) -> None: ...

    def score(self, impression: Impression) -> NDArray[np.float64]: ...

    def learn(self, impression: Impression) -> None: ...


class RandomScorer:
    """Scores drawn uniformly at random: the floor any model must clear (AUC about 0.5)."""

    def __init__(self, seed: int) -> None:
        self._generator = np.random.default_rng(seed)

    def fit(self, train: Sequence[Impression]) -> None:
        """Nothing to learn."""

    def score(self, impression: Impression) -> NDArray[np.float64]:
        return self._generator.random(len(impression.candidates))

    def learn(self, impression: Impression) -> None:
        """Nothing to learn."""


class MostPopularScorer:
    """A candidate's score is how often it has been clicked in the impressions seen so far."""

    def __init__(self) -> None:
        self._clicks: Counter[str] = Counter()

    def fit(self, train: Sequence[Impression]) -> None:
        self._clicks = Counter()
        for impression in train:
            self.learn(impression)

    def score(self, impression: Impression) -> NDArray[np.float64]:
        return np.array([self._clicks[news_id] for news_id in impression.candidates], dtype=float)

    def learn(self, impression: Impression) -> None:
        self._clicks.update(impression.clicked)


class MostRecentScorer:
    """A candidate's score is the time it was first shown in any impression seen so far.

    A candidate never seen before is being shown for the first time now, so it scores as the
    impression's own time: newer than everything seen. This needs no labels, only what a live
    system knows when it ranks, and it means that without replay every news item first shown
    after training counts as brand new rather than as older than all the training news.
    """

    def __init__(self) -> None:
        self._first_shown: dict[str, datetime] = {}

    def fit(self, train: Sequence[Impression]) -> None:
        self._first_shown = {}
        for impression in train:
            self.learn(impression)

    def score(self, impression: Impression) -> NDArray[np.float64]:
        return np.array(
            [
                self._first_shown.get(news_id, impression.time).timestamp()
                for news_id in impression.candidates
            ],
            dtype=float,
        )

    def learn(self, impression: Impression) -> None:
        for news_id in impression.candidates:
            known = self._first_shown.get(news_id)
            if known is None or impression.time < known:
                self._first_shown[news_id] = impression.time


def evaluate(scorer: Scorer, test: Sequence[Impression], *, replay: bool) -> Metrics:
    """Mean metrics of a fitted scorer over labelled test impressions, taken in time order.

    With `replay`, the scorer learns from each impression right after scoring it.
    """
    per_impression = []
    for impression in sorted(test, key=lambda impression: impression.time):
        if impression.labels is None:
            raise ValueError(f"impression {impression.impression_id} has no labels to judge by")
        per_impression.append(impression_metrics(impression.labels, scorer.score(impression)))
        if replay:
            scorer.learn(impression)
    return mean_metrics(per_impression)
