"""The scorer's arrays: eligibility as a mask, features as matrix products that agree with the
same features of single pairs, and a ranking that spreads the categories."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from scipy import sparse

from recommendations.scoring import (
    FEATURES,
    PRIOR_WEIGHTS,
    Notices,
    Residents,
    eligibility,
    pair_features,
    rank,
    score_matrix,
    weight_vector,
)

AREAS, BANDS, AUDIENCES, INTERESTS, CATEGORIES, DIMENSIONS = 4, 10, 3, 5, 3, 2


def rows(values: Sequence[Sequence[float]], width: int) -> sparse.csr_matrix:
    matrix = np.zeros((len(values), width), dtype=np.float32)
    for i, row in enumerate(values):
        for column, value in enumerate(row):
            matrix[i, column] = value
    return sparse.csr_matrix(matrix)


def one_hot(columns: Sequence[Sequence[int]], width: int) -> sparse.csr_matrix:
    matrix = np.zeros((len(columns), width), dtype=np.float32)
    for i, chosen in enumerate(columns):
        matrix[i, list(chosen)] = 1.0
    return sparse.csr_matrix(matrix)


def notices(
    *,
    areas: Sequence[Sequence[int]] = ((),),
    age_bands: Sequence[Sequence[int]] | None = None,
    audiences: Sequence[Sequence[int]] | None = None,
    interests: Sequence[Sequence[int]] | None = None,
    categories: Sequence[int] | None = None,
    recency: Sequence[float] | None = None,
    urgency: Sequence[float] | None = None,
) -> Notices:
    n = len(areas)
    none: list[list[int]] = [[] for _ in range(n)]
    text = np.zeros((n, DIMENSIONS), dtype=np.float32)
    text[:, 0] = 1.0
    return Notices(
        ids=np.arange(100, 100 + n, dtype=np.int64),
        categories=np.asarray(categories or [0] * n, dtype=np.int64),
        recency=np.asarray(recency or [0.5] * n, dtype=np.float32),
        urgency=np.asarray(urgency or [0.0] * n, dtype=np.float32),
        popularity=np.zeros(n, dtype=np.float32),
        areas=one_hot(areas, AREAS),
        age_bands=one_hot(age_bands or none, BANDS),
        audiences=one_hot(audiences or none, AUDIENCES),
        interests=one_hot(interests or none, INTERESTS),
        text=text,
    )


def residents(
    *,
    areas: Sequence[Sequence[float]] = ((),),
    age_bands: Sequence[Sequence[int]] | None = None,
    audiences: Sequence[Sequence[int]] | None = None,
    interests: Sequence[Sequence[int]] | None = None,
    affinity: Sequence[Sequence[float]] | None = None,
    dismissed: Sequence[Sequence[int]] | None = None,
    notice_count: int = 1,
) -> Residents:
    r = len(areas)
    none: list[list[int]] = [[] for _ in range(r)]
    text = np.zeros((r, DIMENSIONS), dtype=np.float32)
    return Residents(
        ids=np.arange(1, r + 1, dtype=np.int64),
        areas=rows(areas, AREAS),
        age_bands=one_hot(age_bands or none, BANDS),
        audiences=one_hot(audiences or none, AUDIENCES),
        interests=one_hot(interests or none, INTERESTS),
        category_affinity=np.asarray(
            affinity or [[0.0] * CATEGORIES] * r, dtype=np.float32
        ).reshape(r, CATEGORIES),
        text=text,
        dismissed=one_hot(dismissed or none, notice_count),
    )


def test_a_notice_for_everyone_is_eligible_for_a_resident_who_shared_nothing() -> None:
    assert eligibility(residents(), notices()).tolist() == [[True]]


def test_an_area_notice_is_eligible_only_for_residents_with_a_place_there() -> None:
    there, elsewhere, nothing = [1.0, 0, 0, 0], [0, 1.0, 0, 0], list[float]()
    people = residents(areas=[there, elsewhere, nothing])

    mask = eligibility(people, notices(areas=[[0]]))

    assert mask[:, 0].tolist() == [True, False, False]


def test_any_one_of_a_notices_areas_is_enough() -> None:
    people = residents(areas=[[0, 1.0, 0, 0]])

    assert eligibility(people, notices(areas=[[0, 1]])).tolist() == [[True]]


def test_every_part_of_the_targeting_must_match() -> None:
    # In the area but in another age band.
    people = residents(areas=[[1.0]], age_bands=[[4]])

    mask = eligibility(people, notices(areas=[[0]], age_bands=[[3]]))

    assert mask.tolist() == [[False]]


def test_a_notice_set_aside_is_not_eligible_again() -> None:
    people = residents(areas=[[], []], dismissed=[[1], []], notice_count=2)

    mask = eligibility(people, notices(areas=[[], []]))

    assert mask.tolist() == [[True, False], [True, True]]


def test_the_score_matrix_is_the_weighted_sum_of_the_pairs_features() -> None:
    rng = np.random.default_rng(3)
    people = residents(
        areas=[[1.0, 0.5, 0, 0], [0, 0, 0.8, 0], []],
        age_bands=[[3], [4], []],
        audiences=[[0], [], [1, 2]],
        interests=[[0, 1], [2], []],
        affinity=rng.random((3, CATEGORIES)).tolist(),
    )
    items = notices(
        areas=[[0], [2, 3], [], [1]],
        age_bands=[[3], [], [4], []],
        audiences=[[], [1], [], [0]],
        interests=[[0], [1, 2], [], [0, 2, 4]],
        categories=[0, 1, 2, 1],
        recency=[1.0, 0.5, 0.25, 0.1],
        urgency=[0.0, 1 / 3, 2 / 3, 1.0],
    )
    weights = weight_vector({name: float(i + 1) for i, name in enumerate(FEATURES)})

    matrix = score_matrix(people, items, weights, bias=0.25)

    r_rows, n_rows = np.meshgrid(np.arange(3), np.arange(4), indexing="ij")
    pairs = pair_features(people, items, r_rows.ravel(), n_rows.ravel())
    assert matrix.ravel() == pytest.approx(pairs @ weights + 0.25, abs=1e-5)


def test_the_interest_feature_is_the_share_of_the_notices_interests_the_resident_has() -> None:
    people = residents(areas=[[]], interests=[[0, 2]])
    items = notices(areas=[[]], interests=[[0, 1, 2, 3]])

    features = pair_features(people, items, np.array([0]), np.array([0]))

    assert features[0, FEATURES.index("interest")] == pytest.approx(0.5)


def test_ranking_takes_the_best_eligible_notices_and_marks_missing_slots() -> None:
    scores = np.array([[0.9, 0.1, 0.5]], dtype=np.float32)
    eligible = np.array([[False, True, True]])

    ranked = rank(
        scores, eligible, np.zeros(3, dtype=np.int64), slots=3, candidates=3, diversity=0.0
    )

    assert ranked.notice_rows.tolist() == [[2, 1, -1]]


def test_ranking_spreads_the_categories() -> None:
    # Five notices of category 0 just ahead of one of category 1.
    scores = np.array([[1.0, 0.99, 0.98, 0.97, 0.96, 0.9]], dtype=np.float32)
    categories = np.array([0, 0, 0, 0, 0, 1], dtype=np.int64)

    plain = rank(scores, np.ones_like(scores, dtype=bool), categories, slots=3, candidates=6,
                 diversity=0.0)  # fmt: skip
    spread = rank(scores, np.ones_like(scores, dtype=bool), categories, slots=3, candidates=6,
                  diversity=0.2)  # fmt: skip

    assert plain.notice_rows.tolist() == [[0, 1, 2]]
    assert spread.notice_rows.tolist() == [[0, 5, 1]]


def test_ranking_is_the_same_resident_by_resident_as_for_the_whole_chunk() -> None:
    rng = np.random.default_rng(11)
    scores = rng.random((50, 40)).astype(np.float32)
    eligible = rng.random((50, 40)) > 0.3
    categories = rng.integers(0, 4, 40)

    whole = rank(scores, eligible, categories, slots=8, candidates=20, diversity=0.1)
    one_by_one = [
        rank(
            scores[i : i + 1],
            eligible[i : i + 1],
            categories,
            slots=8,
            candidates=20,
            diversity=0.1,
        )
        .notice_rows[0]
        .tolist()  # fmt: skip
        for i in range(50)
    ]

    assert whole.notice_rows.tolist() == one_by_one


def test_the_prior_weighs_every_feature() -> None:
    assert set(PRIOR_WEIGHTS) == set(FEATURES)


def explained_masks(people: Residents, items: Notices, weights: dict[str, float]) -> list[int]:
    from recommendations.scoring import explain

    pairs = np.arange(len(people))
    return explain(people, items, pairs, np.zeros(len(people), dtype=np.int64),
                   weight_vector(weights)).masks.tolist()  # fmt: skip


def test_a_reason_names_the_area_the_residents_place_lies_in() -> None:
    from recommendations.scoring import REASON_BITS, explain

    people = residents(areas=[[0, 0.6, 1.0, 0]])
    items = notices(areas=[[1, 2]])

    why = explain(people, items, np.array([0]), np.array([0]), weight_vector(PRIOR_WEIGHTS))

    assert why.masks[0] & REASON_BITS["area"]
    assert why.area_columns.tolist() == [2]


def test_reasons_name_only_the_data_the_scorer_had() -> None:
    from recommendations.scoring import REASON_BITS

    # One notice about interest 1, for a resident who shared it and one who shared nothing.
    people = residents(areas=[[], []], interests=[[1], []])
    items = notices(areas=[[]], interests=[[1]])

    sharing, silent = explained_masks(people, items, PRIOR_WEIGHTS)

    assert sharing & REASON_BITS["interest"]
    assert silent == REASON_BITS["for_everyone"]


def test_a_personal_feature_the_model_gives_no_weight_is_no_reason() -> None:
    from recommendations.scoring import REASON_BITS

    people = residents(areas=[[1.0]])
    items = notices(areas=[[0]])

    masks = explained_masks(people, items, {**PRIOR_WEIGHTS, "area": 0.0})

    assert not masks[0] & REASON_BITS["area"]


def test_an_urgent_notice_says_so() -> None:
    from recommendations.scoring import REASON_BITS

    masks = explained_masks(residents(), notices(urgency=[1.0]), PRIOR_WEIGHTS)

    assert masks[0] & REASON_BITS["urgency"]
