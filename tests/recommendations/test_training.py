"""The learned ranker: fitted on pairs, and trained on the portal's consented interactions, read
through the gate, then promoted only when it beats the active model on the same held-out pairs."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import time_machine

from portal.residents import services as profile_services
from recommendations.models import ModelVersion
from recommendations.scoring import FEATURES
from recommendations.services import active_model
from recommendations.text import TextModel
from recommendations.training import (
    MIN_TRAINING_PAIRS,
    FittedRanker,
    fit_ranker,
    held_out_auc,
    model_train_and_promote,
)
from tests.factories import NoticeFactory, UserFactory
from tests.helpers import grant

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
DAYS = 6
LIKES = ("snow", "events")


def column(name: str) -> int:
    return FEATURES.index(name)


# ------------------------------------------------------------------------------------------------
# fit_ranker
# ------------------------------------------------------------------------------------------------


def separable_set(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Clicked pairs have high popularity, skipped ones low; recency is noise."""
    generator = np.random.default_rng(seed)
    labels = generator.integers(0, 2, size=400)
    features = np.zeros((400, len(FEATURES)), dtype=np.float32)
    features[:, column("popularity")] = np.where(
        labels == 1, generator.uniform(0.6, 1.0, 400), generator.uniform(0.0, 0.4, 400)
    )
    features[:, column("recency")] = generator.uniform(0.0, 1.0, 400)
    return features, labels


def test_the_fitted_ranker_orders_a_synthetic_separable_set_correctly() -> None:
    features, labels = separable_set()

    ranker = fit_ranker(features, labels)

    scores = ranker.scores(features)
    assert scores[labels == 1].min() > scores[labels == 0].max()
    assert held_out_auc(features, labels, ranker.weights, ranker.bias) == 1.0


def test_a_feature_that_would_weigh_against_clicks_gets_weight_nought() -> None:
    features, labels = separable_set()
    features[:, column("urgency")] = 1.0 - features[:, column("popularity")]

    ranker = fit_ranker(features, labels)

    assert ranker.weights["urgency"] == 0.0
    assert all(weight >= 0 for weight in ranker.weights.values())
    assert ranker.weights["popularity"] > 0


def test_a_feature_constant_in_every_pair_gets_weight_nought() -> None:
    features, labels = separable_set()

    ranker = fit_ranker(features, labels)

    assert ranker.weights["area"] == 0.0
    assert set(ranker.weights) == set(FEATURES)


def test_fitting_within_groups_ignores_what_differs_only_between_groups() -> None:
    features, labels = separable_set()
    groups = np.arange(len(labels)) // 4
    # A group-wide value that tracks how many clicks each group has: says nothing within one.
    clicks_per_group = np.bincount(groups, weights=labels)[groups]
    features[:, column("urgency")] = clicks_per_group / 4

    ranker = fit_ranker(features, labels, groups=groups)

    assert ranker.weights["urgency"] == 0.0
    assert ranker.weights["popularity"] > 0


def test_fitting_refuses_labels_of_one_class() -> None:
    features, _labels = separable_set()

    with pytest.raises(ValueError, match="both"):
        fit_ranker(features, np.ones(len(features), dtype=np.int64))


# ------------------------------------------------------------------------------------------------
# model_train_and_promote
# ------------------------------------------------------------------------------------------------


def residents_with_history(count: int, *, days: int = DAYS, consent: bool = True) -> list:
    """``count`` residents, each shown every notice of every day and opening those of the
    category they like (every other resident likes snow, the rest events)."""
    residents = [UserFactory.create() for _ in range(count)]
    for resident in residents:
        if consent:
            grant(resident, "personalised_home", "interactions")
        else:
            grant(resident, "personalised_home", "places")
    for day in range(days):
        morning = START + timedelta(days=day)
        with time_machine.travel(morning, tick=False):
            notices = [NoticeFactory.create(category=category) for category in LIKES * 2]
        with time_machine.travel(morning + timedelta(hours=1), tick=False):
            for resident in residents:
                profile_services.interactions_shown(
                    resident_id=resident.pk, notice_ids=[notice.pk for notice in notices]
                )
        with time_machine.travel(morning + timedelta(hours=2), tick=False):
            for index, resident in enumerate(residents):
                for notice in notices:
                    if notice.category == LIKES[index % 2]:
                        profile_services.interaction_record(
                            resident_id=resident.pk, notice_id=notice.pk, kind="opened"
                        )
    return residents


def train_now():
    return model_train_and_promote(now=START + timedelta(days=DAYS + 1))


def version_with(weights: dict[str, float], *, active: bool) -> ModelVersion:
    return ModelVersion.objects.create(
        weights=weights,
        bias=0.0,
        features=list(FEATURES),
        text_model=pickle.dumps(TextModel.fit([])),
        is_active=active,
        promoted_at=START if active else None,
    )


@pytest.mark.django_db
def test_a_model_better_than_the_active_one_is_promoted_and_is_the_only_active_one() -> None:
    residents_with_history(10)
    # Ranks by recency alone: every notice of a day is as new as the others, so it guesses.
    weak = version_with({"recency": 1.0}, active=True)

    outcome = train_now()

    weak.refresh_from_db()
    assert outcome.promoted
    assert outcome.version is not None and outcome.version.is_active
    assert outcome.version.promoted_at == START + timedelta(days=DAYS + 1)
    assert not weak.is_active
    assert list(ModelVersion.objects.filter(is_active=True)) == [outcome.version]
    metrics = outcome.version.metrics
    assert metrics["auc_new"] > metrics["auc_current"]
    assert metrics["current_version"] == weak.pk
    assert outcome.version.weights["category"] > 0
    # The rescore reads it: its weights and the text model stored with it.
    assert active_model(notice_texts=[]).version_id == outcome.version.pk


@pytest.mark.django_db
def test_the_stored_version_holds_its_window_features_pairs_and_text_model() -> None:
    residents_with_history(10)

    outcome = train_now()

    version = outcome.version
    assert version is not None
    assert version.features == list(FEATURES)
    assert version.trained_from == START + timedelta(hours=1)
    assert version.trained_to == START + timedelta(days=DAYS - 1, hours=1)
    assert version.training_pairs + version.metrics["held_out_pairs"] == 10 * DAYS * 4
    assert version.metrics["held_out_pairs"] == round(10 * DAYS * 4 * 0.2)
    assert isinstance(pickle.loads(bytes(version.text_model)), TextModel)


@pytest.mark.django_db
def test_a_worse_model_is_stored_but_not_promoted_and_the_active_one_stays(monkeypatch) -> None:
    residents_with_history(10)
    good = version_with({"category": 5.0}, active=True)
    # Whatever the data, the new fit ranks by nothing but the clock.
    monkeypatch.setattr(
        "recommendations.training.fit_ranker",
        lambda *args, **kwargs: FittedRanker(weights={"recency": 1.0}, bias=0.0),
    )

    outcome = train_now()

    good.refresh_from_db()
    assert not outcome.promoted
    assert outcome.version is not None and outcome.version.pk is not None
    assert not outcome.version.is_active and outcome.version.promoted_at is None
    assert good.is_active
    assert outcome.version.metrics["auc_new"] < outcome.version.metrics["auc_current"]
    assert "kept model" in outcome.version.note


@pytest.mark.django_db
def test_without_an_active_model_the_new_one_is_compared_with_the_prior() -> None:
    residents_with_history(10)

    outcome = train_now()

    assert outcome.version is not None
    assert outcome.version.metrics["current_version"] is None
    assert "the prior" in outcome.version.note


@pytest.mark.django_db
def test_too_few_interactions_record_nothing() -> None:
    residents_with_history(2)  # 2 × 6 days × 4 notices = 48 pairs

    outcome = train_now()

    assert MIN_TRAINING_PAIRS > 48
    assert outcome.version is None and not outcome.promoted
    assert "fewer than" in outcome.reason
    assert not ModelVersion.objects.exists()


@pytest.mark.django_db
def test_pairs_all_of_one_label_record_nothing() -> None:
    residents = residents_with_history(10, days=0)
    for day in range(DAYS):
        with time_machine.travel(START + timedelta(days=day), tick=False):
            notices = [NoticeFactory.create() for _ in range(4)]
            for resident in residents:
                for notice in notices:
                    profile_services.interaction_record(
                        resident_id=resident.pk, notice_id=notice.pk, kind="opened"
                    )

    outcome = train_now()

    assert outcome.version is None
    assert "one label" in outcome.reason
    assert not ModelVersion.objects.exists()


@pytest.mark.django_db
def test_residents_without_interaction_history_consent_contribute_nothing_identifying() -> None:
    sharing = residents_with_history(10)
    not_sharing = residents_with_history(4, consent=False)

    outcome = train_now()

    version = outcome.version
    assert version is not None
    # Only the sharing residents' pairs: the others' were neither stored nor read.
    assert version.training_pairs + version.metrics["held_out_pairs"] == 10 * DAYS * 4
    stored = json.dumps([version.weights, version.metrics, version.note, version.features])
    for resident in sharing + not_sharing:
        assert f'"{resident.pk}"' not in stored and f"#{resident.pk} " not in stored
