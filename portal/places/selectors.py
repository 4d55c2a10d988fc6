"""Reads of areas, shelters and schools (no resident attributes: those go through
consent.policy)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import numpy as np
from django.core.cache import cache
from django.db.models import (
    Count,
    FloatField,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast
from django.utils.translation import get_language

from portal.models import Area, School, Shelter
from portal.places.geometry import distances_m


@dataclass(frozen=True)
class CityOverview:
    municipalities: int
    districts: int
    shelters: int
    schools: int


# The overview's counts change when the city's reference data is imported, a few times a year:
# every page showing them need not count them again.
OVERVIEW_CACHE_SECONDS = 600


_OVERVIEW_KEY = "places:city-overview"


def city_overview() -> CityOverview:
    """How many areas, shelters and schools the site knows, counted at most every ten minutes
    (and at once after an import: ``forget_city_overview``)."""
    return cast(
        CityOverview, cache.get_or_set(_OVERVIEW_KEY, _count_overview, OVERVIEW_CACHE_SECONDS)
    )


def forget_city_overview() -> None:
    cache.delete(_OVERVIEW_KEY)


def _count_overview() -> CityOverview:
    counts = dict(Area.objects.values_list("kind").annotate(n=Count("id")).order_by())
    return CityOverview(
        municipalities=counts.get(Area.Kind.MUNICIPALITY, 0),
        districts=counts.get(Area.Kind.DISTRICT, 0),
        shelters=Shelter.objects.count(),
        schools=School.objects.count(),
    )


@dataclass(frozen=True)
class DistrictCount:
    code: str
    name: str
    shelter_count: int


def districts_with_shelters() -> list[DistrictCount]:
    """Districts holding at least one shelter, directly or in one of their neighbourhoods.

    One pass over the shelters grouped by area, then the few areas' parents: a correlated
    count per district scanned every shelter once per district.
    """
    per_area = dict(
        Shelter.objects.order_by()
        .values_list("area_id")
        .annotate(n=Count("pk"))
        .values_list("area_id", "n")
    )
    parents = dict(Area.objects.filter(pk__in=per_area).values_list("pk", "parent_id"))
    counts: Counter[int] = Counter()
    for area_id, count in per_area.items():
        counts[area_id] += count
        if parents[area_id] is not None:
            counts[parents[area_id]] += count
    districts = Area.objects.filter(kind=Area.Kind.DISTRICT, pk__in=counts).order_by("code")
    return [
        DistrictCount(code=district.code, name=district.name, shelter_count=counts[district.pk])
        for district in districts
    ]


# Distances from a resident's home are shown to 100 m: metre-exact distances to a few sites
# would give the home away (trilateration).
HOME_DISTANCE_RESOLUTION_M = 100

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
    # Floats from the database: building a Decimal per coordinate took four fifths of the time.
    rows = shelters.order_by().values_list(
        "pk", Cast("latitude", FloatField()), Cast("longitude", FloatField())
    )
    table = np.array(list(rows), dtype=np.float64).reshape(-1, 3)
    if not len(table):
        return RankedByDistance(ids=[], distances={})
    ids = table[:, 0].astype(np.int64)
    metres = distances_m(latitude, longitude, table[:, 1], table[:, 2])
    # Ties (two sites at one address) are broken by id, so that paging is stable.
    order = np.lexsort((ids, metres))
    ranked = ids[order].tolist()
    return RankedByDistance(
        ids=ranked,
        distances=dict(zip(ranked, np.rint(metres[order]).astype(np.int64).tolist(), strict=True)),
    )


def nearby_shelters(
    ranked: RankedByDistance, ids: Sequence[int], *, resolution_m: int = 1
) -> list[NearbyShelter]:
    """The shelters of ``ids`` (a page of ``ranked.ids``), in that order, with their distance
    rounded to ``resolution_m`` (at least that much)."""
    found = Shelter.objects.select_related("area", "area__parent").in_bulk(list(ids))
    return [
        NearbyShelter(
            shelter=found[pk],
            distance_m=max(resolution_m, round(ranked.distances[pk] / resolution_m) * resolution_m),
        )
        for pk in ids
    ]


# The database picks this many sites by a flat-earth distance, and their great-circle distances
# rank them: within a region the two orders differ only among sites metres apart.
NEAREST_CANDIDATES = 8


def nearest_shelters(
    *,
    latitude: Decimal | float,
    longitude: Decimal | float,
    limit: int = 3,
    resolution_m: int = 1,
) -> list[NearbyShelter]:
    """The closest designated sites by great-circle distance, in one query (the home page asks
    at every visit of a resident who shares their home's location)."""
    lat, lon = float(latitude), float(longitude)
    # A degree of longitude here is this fraction of a degree of latitude.
    stretch = math.cos(math.radians(lat))
    north = Cast("latitude", FloatField()) - Value(lat)
    east = (Cast("longitude", FloatField()) - Value(lon)) * Value(stretch)
    candidates = list(
        Shelter.objects.select_related("area", "area__parent")
        .annotate(flat_distance=north * north + east * east)
        .order_by("flat_distance", "pk")[: max(limit, NEAREST_CANDIDATES)]
    )
    if not candidates:
        return []
    metres = distances_m(
        lat,
        lon,
        np.array([float(site.latitude) for site in candidates]),
        np.array([float(site.longitude) for site in candidates]),
    )
    distances = np.rint(metres).astype(np.int64).tolist()
    ranked = sorted(zip(distances, candidates, strict=True), key=lambda p: (p[0], p[1].pk))
    return [
        NearbyShelter(
            shelter=site,
            distance_m=max(resolution_m, round(distance / resolution_m) * resolution_m),
        )
        for distance, site in ranked[:limit]
    ]


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
    """Sites in the given areas or below them."""
    return shelter_search(area_ids=area_ids)[:limit]
