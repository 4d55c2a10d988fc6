"""Walks of the area tree: up from a neighbourhood to its city, down from a city to its
neighbourhoods, each in one query."""

from __future__ import annotations

import pytest

from portal.models import Area
from tests.factories import DistrictFactory, MunicipalityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree() -> dict[str, Area]:
    city = MunicipalityFactory.create()
    district = DistrictFactory.create(parent=city)
    neighbourhood = DistrictFactory.create(parent=district, kind=Area.Kind.NEIGHBOURHOOD)
    other = DistrictFactory.create(parent=city)
    return {"city": city, "district": district, "neighbourhood": neighbourhood, "other": other}


def test_the_ancestors_of_a_neighbourhood_are_its_district_and_city(tree) -> None:
    reached = Area.objects.ids_with_ancestors([tree["neighbourhood"].pk])

    assert reached == {tree["neighbourhood"].pk, tree["district"].pk, tree["city"].pk}


def test_the_descendants_of_a_district_are_its_neighbourhoods_only(tree) -> None:
    reached = Area.objects.ids_with_descendants([tree["district"].pk])

    assert reached == {tree["district"].pk, tree["neighbourhood"].pk}


def test_the_descendants_of_the_city_are_every_area(tree) -> None:
    reached = Area.objects.ids_with_descendants([tree["city"].pk])

    assert reached == {area.pk for area in tree.values()}


def test_a_walk_takes_one_query_however_deep_the_tree(tree, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        Area.objects.ids_with_ancestors([tree["neighbourhood"].pk, tree["other"].pk])


def test_a_walk_from_nothing_reaches_nothing_without_a_query(django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        assert Area.objects.ids_with_ancestors([]) == set()


def test_the_areas_with_ancestors_as_a_query_are_the_walk_s_areas(tree) -> None:
    start = [tree["neighbourhood"].pk, tree["other"].pk]

    query = Area.objects.with_ancestors_of(start)

    assert set(query.values_list("pk", flat=True)) == Area.objects.ids_with_ancestors(start)
    assert not Area.objects.with_ancestors_of([]).exists()
