"""Distances from one point to many, as arrays, agree with the one-pair haversine."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from portal.models import Shelter
from portal.places.geometry import distance_m, distances_m
from portal.places.selectors import nearest_shelters, rank_by_distance
from tests.factories import ShelterFactory


def test_the_array_distances_agree_with_the_pairwise_haversine() -> None:
    latitudes = np.array([37.4948, 37.6, 35.6812, -33.86])
    longitudes = np.array([139.9298, 139.8, 139.7671, 151.21])

    metres = distances_m(37.5, 139.93, latitudes, longitudes)

    expected = [
        distance_m(37.5, 139.93, lat, lon) for lat, lon in zip(latitudes, longitudes, strict=True)
    ]
    assert metres.tolist() == pytest.approx(expected, rel=1e-12)


@pytest.mark.django_db
def test_ranking_orders_every_site_by_distance_with_ties_broken_by_id() -> None:
    far = ShelterFactory.create(latitude=Decimal("37.60"), longitude=Decimal("139.93"))
    twin_a = ShelterFactory.create(latitude=Decimal("37.50"), longitude=Decimal("139.93"))
    twin_b = ShelterFactory.create(latitude=Decimal("37.50"), longitude=Decimal("139.93"))

    ranked = rank_by_distance(Shelter.objects.all(), latitude=37.49, longitude=139.93)

    assert ranked.ids == [twin_a.pk, twin_b.pk, far.pk]
    assert ranked.distances[far.pk] == round(distance_m(37.49, 139.93, 37.60, 139.93))


@pytest.mark.django_db
def test_nearest_shelters_returns_only_the_closest_few() -> None:
    ShelterFactory.create(name_ja="遠い", latitude=Decimal("37.60"))
    ShelterFactory.create(name_ja="近い", latitude=Decimal("37.50"))

    nearest = nearest_shelters(latitude=Decimal("37.49"), longitude=Decimal("139.93"), limit=1)

    assert [nearby.shelter.name_ja for nearby in nearest] == ["近い"]


@pytest.mark.django_db
def test_ranking_no_sites_gives_an_empty_ranking() -> None:
    assert rank_by_distance(Shelter.objects.none(), latitude=37.5, longitude=139.9).ids == []


@pytest.mark.django_db
def test_the_nearest_shelters_are_the_first_of_the_full_great_circle_ranking() -> None:
    chooser = np.random.default_rng(3)
    for latitude, longitude in zip(
        chooser.uniform(37.3, 37.7, 60), chooser.uniform(139.7, 140.1, 60), strict=True
    ):
        ShelterFactory.create(
            latitude=Decimal(f"{latitude:.6f}"), longitude=Decimal(f"{longitude:.6f}")
        )
    ranked = rank_by_distance(Shelter.objects.all(), latitude=37.49, longitude=139.93)

    nearest = nearest_shelters(latitude=Decimal("37.49"), longitude=Decimal("139.93"), limit=5)

    assert [nearby.shelter.pk for nearby in nearest] == ranked.ids[:5]
    assert [nearby.distance_m for nearby in nearest] == [
        ranked.distances[pk] for pk in ranked.ids[:5]
    ]


@pytest.mark.django_db
def test_the_nearest_shelters_take_one_query(django_assert_num_queries) -> None:
    ShelterFactory.create_batch(3)
    with django_assert_num_queries(1):
        nearest_shelters(latitude=37.49, longitude=139.93)


@pytest.mark.django_db
def test_no_sites_means_no_nearest_shelter() -> None:
    assert nearest_shelters(latitude=37.49, longitude=139.93) == []
