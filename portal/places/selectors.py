"""Reads of areas, shelters and schools (no resident attributes: those go through
consent.policy)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import Count, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import get_language

from portal.models import Area, School, Shelter
from portal.places.geometry import distances_m


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


HAZARDS = tuple(field.removeprefix("for_") for field in Shelter.HAZARD_FIELDS)


def shelter_search(
    *, area_code: str = "", hazard: str = "", area_ids: Collection[int] | None = None
) -> QuerySet[Shelter]:
    """Shelters by name: in an area and every area below it, designated for a hazard, and in
    or below one of ``area_ids`` (a resident's places); each filter left empty is not applied."""
    shelters = Shelter.objects.select_related("area", "area__parent").order_by("name_ja", "pk")
    if area_code:
        shelters = shelters.filter(
            Q(area__code=area_code)
            | Q(area__parent__code=area_code)
            | Q(area__parent__parent__code=area_code)
        )
    if hazard:
        if hazard not in HAZARDS:
            raise ValueError(f"unknown hazard {hazard!r}")
        shelters = shelters.filter(**{f"for_{hazard}": True})
    if area_ids is not None:
        shelters = shelters.filter(area_id__in=Area.objects.ids_with_descendants(area_ids))
    return shelters


@dataclass(frozen=True)
class NearbyShelter:
    shelter: Shelter
    distance_m: int

    @property
    def distance_km(self) -> float:
        return self.distance_m / 1000


@dataclass(frozen=True)
class RankedByDistance:
    """Shelter ids nearest first, with their distances in metres: cheap to page through, since
    only the page's shelters are then loaded (``nearby_shelters``)."""

    ids: list[int]
    distances: dict[int, int]


def rank_by_distance(
    shelters: QuerySet[Shelter], *, latitude: float, longitude: float
) -> RankedByDistance:
    """Every shelter of ``shelters`` ordered by great-circle distance, as one array operation.

    Even a region's tens of thousands of sites are a few arrays of floats: cheaper than a
    spatial index would be to keep up.
    """
    rows = list(shelters.order_by().values_list("pk", "latitude", "longitude"))
    if not rows:
        return RankedByDistance(ids=[], distances={})
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    where = np.array([(float(row[1]), float(row[2])) for row in rows], dtype=np.float64)
    metres = distances_m(latitude, longitude, where[:, 0], where[:, 1])
    # Ties (two sites at one address) are broken by id, so that paging is stable.
    order = np.lexsort((ids, metres))
    ranked = ids[order].tolist()
    return RankedByDistance(
        ids=ranked,
        distances=dict(zip(ranked, np.rint(metres[order]).astype(np.int64).tolist(), strict=True)),
    )


def nearby_shelters(ranked: RankedByDistance, ids: Sequence[int]) -> list[NearbyShelter]:
    """The shelters of ``ids`` (a page of ``ranked.ids``), in that order, with their distance."""
    found = Shelter.objects.select_related("area", "area__parent").in_bulk(list(ids))
    return [NearbyShelter(shelter=found[pk], distance_m=ranked.distances[pk]) for pk in ids]


def nearest_shelters(
    *, latitude: Decimal | float, longitude: Decimal | float, limit: int = 3
) -> list[NearbyShelter]:
    """The closest designated sites by great-circle distance."""
    ranked = rank_by_distance(
        Shelter.objects.all(), latitude=float(latitude), longitude=float(longitude)
    )
    return nearby_shelters(ranked, ranked.ids[:limit])


def shelter_map_features(shelters: QuerySet[Shelter]) -> dict[str, Any]:
    """The shelters as GeoJSON for the map on /shelters/, named in the active language."""
    hazard_labels = Shelter.hazard_names()
    english = get_language() == "en"
    fields = ("pk", "kind", "name_ja", "name_en", "address", "latitude", "longitude")
    features = []
    for row in shelters.order_by("pk").values(*fields, *Shelter.HAZARD_FIELDS):
        named_in_english = english and bool(row["name_en"])
        features.append(
            {
                "type": "Feature",
                "id": row["pk"],
                "geometry": {
                    "type": "Point",
                    "coordinates": [float(row["longitude"]), float(row["latitude"])],
                },
                "properties": {
                    "name": row["name_en"] if named_in_english else row["name_ja"],
                    "nameLang": "en" if named_in_english else "ja",
                    "kind": row["kind"],
                    "kindLabel": str(Shelter.Kind(row["kind"]).label),
                    "address": row["address"],
                    "hazards": [label for name, label in hazard_labels.items() if row[name]],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def shelters_near_areas(*, area_ids: list[int], limit: int = 5) -> QuerySet[Shelter]:
    """Sites in the given areas or directly below them."""
    return (
        Shelter.objects.filter(Q(area_id__in=area_ids) | Q(area__parent_id__in=area_ids))
        .select_related("area")
        .order_by("name_ja")[:limit]
    )
