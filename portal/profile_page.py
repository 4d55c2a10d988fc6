"""The profile page: one form per data category, filled from what is stored, with the purposes
the resident could opt in to for each category not shared yet.

Attributes are read through consent.policy.read_own_data (the read lands in the resident's
data-use log) and written by the forms in portal.forms, through portal.profile_services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consent.catalogue import Category
from consent.policy import ProfileProjection, Reader, read_own_data
from consent.selectors import all_current_terms, covered_categories
from portal.attribute_labels import area_paths, child_label, place_kind_label
from portal.forms import (
    BirthYearForm,
    ChildAddForm,
    InterestsForm,
    LanguageForm,
    LocationForm,
    PlaceAddForm,
    ProfileSectionForm,
)
from portal.models import School

# The single-valued sections of the profile page, each posted to /me/profile/<category>/.
SECTION_FORMS: dict[str, type[ProfileSectionForm]] = {
    Category.AGE: BirthYearForm,
    Category.LANGUAGE: LanguageForm,
    Category.LOCATION: LocationForm,
    Category.INTERESTS: InterestsForm,
}
PROFILE_CATEGORIES = (*SECTION_FORMS, Category.PLACES, Category.HOUSEHOLD)


@dataclass(frozen=True)
class _ListedPlace:
    id: int
    kind: str
    area: str


@dataclass(frozen=True)
class _ListedChild:
    id: int
    label: str


@dataclass(frozen=True)
class _Offer:
    purpose_code: str
    purpose_name: str


def profile_context(resident_id: int, *, failed: ProfileSectionForm | None) -> dict[str, Any]:
    """The whole page; a form that failed to store is shown again, with its errors."""
    data = read_own_data(resident_id=resident_id, reader=Reader(kind="view", name="me:profile"))
    covered = covered_categories(resident_id=resident_id)
    forms = _section_forms(data)
    if failed is not None:
        forms[failed.category] = failed
    return {
        "forms": forms,
        "failed": failed,
        "shared": {code: code in covered for code in PROFILE_CATEGORIES},
        "offers": _consent_offers(),
        "places": _listed_places(data),
        "children": _listed_children(data),
    }


def _section_forms(data: ProfileProjection) -> dict[str, ProfileSectionForm]:
    """Each category's form, showing what is stored."""
    return {
        Category.AGE: BirthYearForm(initial={"birth_year": data.birth_year}),
        Category.LANGUAGE: LanguageForm(
            initial={
                "preferred_language": data.preferred_language or "",
                "needs_large_text": data.needs_large_text,
                "needs_easy_japanese": data.needs_easy_japanese,
            }
        ),
        Category.LOCATION: LocationForm(
            initial={"latitude": data.home_location[0], "longitude": data.home_location[1]}
            if data.home_location
            else {}
        ),
        Category.INTERESTS: InterestsForm(initial={"interests": list(data.interests)}),
        Category.PLACES: PlaceAddForm(),
        Category.HOUSEHOLD: ChildAddForm(),
    }


def _listed_places(data: ProfileProjection) -> list[_ListedPlace]:
    areas = area_paths({place.area_id for place in data.places})
    return [
        _ListedPlace(
            id=place.id, kind=place_kind_label(place.kind), area=areas.get(place.area_id, "")
        )
        for place in data.places
    ]


def _listed_children(data: ProfileProjection) -> list[_ListedChild]:
    schools = School.objects.in_bulk({child.school_id for child in data.children})
    return [
        _ListedChild(id=child.id, label=child_label(schools.get(child.school_id), child.grade))
        for child in data.children
    ]


def _consent_offers() -> dict[str, list[_Offer]]:
    """For each category, the purposes whose current terms ask for it (to opt in from here)."""
    offers: dict[str, list[_Offer]] = {code: [] for code in PROFILE_CATEGORIES}
    for terms in all_current_terms():
        for code in terms.category_codes:
            if code in offers:
                offers[code].append(_Offer(terms.purpose.code, terms.purpose.name))
    return offers
