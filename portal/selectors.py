"""Read-only queries of the portal app (no resident attributes: see consent.policy)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Func, IntegerField, OuterRef, Q, QuerySet, Subquery

from portal.models import Area, School, Shelter
from portal.roles import Role


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


def roles_of(user: AbstractBaseUser | AnonymousUser) -> list[Role]:
    if not user.is_authenticated:
        return []
    names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
    return [role for role in Role if role.value in names]
