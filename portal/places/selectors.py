"""Reads of areas, shelters and schools (no resident attributes: those go through
consent.policy)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Func, IntegerField, OuterRef, Q, QuerySet, Subquery

from portal.models import Area, School, Shelter
from portal.places.geometry import distance_m


@dataclass(frozen=True)
class CityOverview:
    municipalities: int
    districts: int
    shelters: int
    schools: int


def city_overview() -> CityOverview:
    counts = dict(Area.objects.values_list("kind").annotate(n=Count("id")).order_by())
    return CityOverview(
        municipalities=counts.get(Area.Kind.MUNICIPALITY, 0),
        districts=counts.get(Area.Kind.DISTRICT, 0),
        shelters=Shelter.objects.count(),
        schools=School.objects.count(),
    )


def districts_with_shelters() -> QuerySet[Area]:
    """Districts holding at least one shelter, directly or in one of their neighbourhoods."""
    count_below = (
        Shelter.objects.filter(Q(area=OuterRef("pk")) | Q(area__parent=OuterRef("pk")))
        .order_by()
        .annotate(n=Func("pk", function="COUNT"))
        .values("n")
    )
    return (
        Area.objects.filter(kind=Area.Kind.DISTRICT)
        .annotate(shelter_count=Subquery(count_below, output_field=IntegerField()))
        .filter(shelter_count__gt=0)
        .order_by("code")
    )


def shelters_in_area(*, area_code: str) -> QuerySet[Shelter]:
    """Shelters in an area and every area below it; all shelters without an area code."""
    shelters = Shelter.objects.select_related("area").order_by("name_ja")
    if not area_code:
        return shelters
    return shelters.filter(
        Q(area__code=area_code)
        | Q(area__parent__code=area_code)
        | Q(area__parent__parent__code=area_code)
    )


@dataclass(frozen=True)
class NearbyShelter:
    shelter: Shelter
    distance_m: int


def nearest_shelters(
    *, latitude: Decimal, longitude: Decimal, limit: int = 3
) -> list[NearbyShelter]:
    """The closest designated sites by great-circle distance.

    A municipality has a few hundred sites, so computing every distance is cheaper than a
    spatial index would be to maintain.
    """
    here = (float(latitude), float(longitude))
    ranked = sorted(
        (
            NearbyShelter(
                shelter=s,
                distance_m=round(distance_m(*here, float(s.latitude), float(s.longitude))),
            )
            for s in Shelter.objects.select_related("area")
        ),
        key=lambda nearby: nearby.distance_m,
    )
    return ranked[:limit]


def shelters_near_areas(*, area_ids: list[int], limit: int = 5) -> QuerySet[Shelter]:
    """Sites in the given areas or directly below them."""
    return (
        Shelter.objects.filter(Q(area_id__in=area_ids) | Q(area__parent_id__in=area_ids))
        .select_related("area")
        .order_by("name_ja")[:limit]
    )
