"""What /shelters/ is given: shelters by name, or nearest first from where the visitor is or from
the home or places a resident shared for disaster warnings (read through the consent gate)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.translation import gettext_noop

from consent import policy
from consent.catalogue import Category, PurposeCode, RecipientCode
from portal.models import Area, Shelter
from portal.places import selectors
from portal.places.forms import Near

PAGE_SIZE = 20


@dataclass(frozen=True)
class ShelterResults:
    """One page of shelters (``NearbyShelter`` when ``by_distance``, else ``Shelter``)."""

    page: Page[Any]
    near: str = ""
    by_distance: bool = False
    # Where distances are measured from: "here" (the visitor's position, which the page may show
    # back to them) or "home" (the resident's shared home, which it does not put on the page).
    origin: str = ""
    position: tuple[float, float] | None = None
    # The resident's shared places, when they shared places but not their home's location.
    my_areas: list[Area] = field(default_factory=list)
    # Why "nearest to my home" could not be answered: "sign_in" or "not_shared".
    home_missing: str = ""
    query: str = ""


def shelter_results(
    *,
    area_code: str,
    hazard: str,
    near: str,
    position: tuple[float, float] | None,
    page_number: str | None,
    resident_id: int | None,
) -> ShelterResults:
    query = _query(area_code=area_code, hazard=hazard, near=near, position=position)
    if near == Near.HERE and position is not None:
        shelters = selectors.shelter_search(area_code=area_code, hazard=hazard)
        return _by_distance(shelters, position, page_number, origin="here", query=query)
    if near == Near.HOME:
        if resident_id is None:
            return _by_name(
                area_code, hazard, page_number, query=query, near=near, home_missing="sign_in"
            )
        shared = shared_for_shelters(resident_id=resident_id)
        if shared.home_location is not None:
            home = (float(shared.home_location[0]), float(shared.home_location[1]))
            shelters = selectors.shelter_search(area_code=area_code, hazard=hazard)
            return _by_distance(shelters, home, page_number, origin="home", query=query)
        if shared.places:
            area_ids = sorted({place.area_id for place in shared.places})
            shelters = selectors.shelter_search(
                area_code=area_code, hazard=hazard, area_ids=area_ids
            )
            return ShelterResults(
                page=Paginator(shelters, PAGE_SIZE).get_page(page_number),
                near=near,
                my_areas=list(Area.objects.filter(pk__in=area_ids).order_by("code")),
                query=query,
            )
        return _by_name(
            area_code, hazard, page_number, query=query, near=near, home_missing="not_shared"
        )
    return _by_name(area_code, hazard, page_number, query=query)


def shared_for_shelters(*, resident_id: int) -> policy.ProfileProjection:
    """What the resident agreed to share for disaster warnings: their home's location and their
    places, to find the shelters nearest to them."""
    return policy.read_profile(
        resident_id=resident_id,
        purpose=PurposeCode.DISASTER_WARNINGS,
        reader=policy.Reader(
            kind="view",
            name=gettext_noop("the shelters nearest to you on the shelters page"),
            recipient=RecipientCode.CITY,
        ),
        categories=[Category.LOCATION, Category.PLACES],
    )


def _by_name(
    area_code: str,
    hazard: str,
    page_number: str | None,
    *,
    query: str,
    near: str = "",
    home_missing: str = "",
) -> ShelterResults:
    shelters = selectors.shelter_search(area_code=area_code, hazard=hazard)
    return ShelterResults(
        page=Paginator(shelters, PAGE_SIZE).get_page(page_number),
        near=near,
        home_missing=home_missing,
        query=query,
    )


def _by_distance(
    shelters: QuerySet[Shelter],
    origin_point: tuple[float, float],
    page_number: str | None,
    *,
    origin: str,
    query: str,
) -> ShelterResults:
    ranked = selectors.rank_by_distance(
        shelters, latitude=origin_point[0], longitude=origin_point[1]
    )
    ids = Paginator(ranked.ids, PAGE_SIZE).get_page(page_number)
    # The page of ids becomes the page of those shelters; the paginator still counts them all.
    paginator = cast("Paginator[Any]", ids.paginator)
    resolution = selectors.HOME_DISTANCE_RESOLUTION_M if origin == "home" else 1
    nearby = selectors.nearby_shelters(ranked, list(ids), resolution_m=resolution)
    page = Page(nearby, ids.number, paginator)
    return ShelterResults(
        page=page,
        near="here" if origin == "here" else "home",
        by_distance=True,
        origin=origin,
        position=origin_point if origin == "here" else None,
        query=query,
    )


def _query(*, area_code: str, hazard: str, near: str, position: tuple[float, float] | None) -> str:
    """The search as a query string, kept by the pagination links."""
    pairs = [("area", area_code), ("hazard", hazard), ("near", near)]
    if near == Near.HERE and position is not None:
        pairs += [("lat", str(position[0])), ("lon", str(position[1]))]
    return urlencode([(key, value) for key, value in pairs if value])


def map_query(*, area_code: str, hazard: str, near: str = "") -> str:
    """The map's filters: it shows every shelter of the search, whatever the page ("my home"
    included: the map then reads the resident's places through the gate as the list did)."""
    pairs = (("area", area_code), ("hazard", hazard), ("near", near if near == Near.HOME else ""))
    return urlencode([(key, value) for key, value in pairs if value])


def map_shelters(
    *, area_code: str, hazard: str, near: str, resident_id: int | None
) -> QuerySet[Shelter]:
    """Every shelter of the search, for the map: with "my home", only the resident's areas when
    they shared their places but not their home (as the list shows)."""
    if near == Near.HOME and resident_id is not None:
        shared = shared_for_shelters(resident_id=resident_id)
        if shared.home_location is None and shared.places:
            area_ids = sorted({place.area_id for place in shared.places})
            return selectors.shelter_search(area_code=area_code, hazard=hazard, area_ids=area_ids)
    return selectors.shelter_search(area_code=area_code, hazard=hazard)
