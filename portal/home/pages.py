"""What the home page is given: the warnings in force, the city at a glance and, for a signed-in
resident, what they share, and the warnings and shelters for their areas (read through the consent
gate for disaster warnings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_noop

from consent import policy
from consent.catalogue import Category, PurposeCode, RecipientCode
from consent.selectors import covered_categories
from portal.models import Shelter
from portal.notices.selectors import urgent_notices
from portal.places.selectors import (
    HOME_DISTANCE_RESOLUTION_M,
    NearbyShelter,
    city_overview,
    nearest_shelters,
    shelters_near_areas,
)


def home_context(*, resident_id: int | None) -> dict[str, Any]:
    context: dict[str, Any] = {"overview": city_overview()}
    shared = None
    if resident_id is not None:
        shared = shared_for_disaster_warnings(resident_id=resident_id)
        context["shared_category_count"] = len(covered_categories(resident_id=resident_id))
        context["shelter_guidance"] = shelter_guidance(shared)
    area_ids = [place.area_id for place in shared.places] if shared else []
    context["warnings"] = list(urgent_notices(area_ids=area_ids)[:5])
    return context


@dataclass(frozen=True)
class ShelterGuidance:
    nearest: list[NearbyShelter]
    in_my_areas: list[Shelter]


def shared_for_disaster_warnings(*, resident_id: int) -> policy.ProfileProjection:
    """What the resident agreed to share for disaster warnings: their home's location and their
    places, for the warnings in their areas and the shelters near them."""
    return policy.read_profile(
        resident_id=resident_id,
        purpose=PurposeCode.DISASTER_WARNINGS,
        reader=policy.Reader(
            kind="view",
            name=gettext_noop("the warnings and shelters on your home page"),
            recipient=RecipientCode.CITY,
        ),
        categories=[Category.LOCATION, Category.PLACES],
    )


def shelter_guidance(shared: policy.ProfileProjection) -> ShelterGuidance | None:
    """Shelters for the resident, from what they agreed to share for disaster warnings."""
    if shared.home_location is not None:
        latitude, longitude = shared.home_location
        return ShelterGuidance(
            nearest=nearest_shelters(
                latitude=latitude, longitude=longitude, resolution_m=HOME_DISTANCE_RESOLUTION_M
            ),
            in_my_areas=[],
        )
    if shared.places:
        area_ids = [place.area_id for place in shared.places]
        return ShelterGuidance(nearest=[], in_my_areas=list(shelters_near_areas(area_ids=area_ids)))
    return None
