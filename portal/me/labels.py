"""How a resident's attributes are named on the resident's own pages ("my data", profile)."""

from __future__ import annotations

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from portal.models import Area, PlaceKind, School


def area_paths(area_ids: set[int]) -> dict[int, str]:
    """Each area named with the areas above it: "会津若松市 › 鶴城 › 東栄町"."""
    areas = Area.objects.filter(pk__in=area_ids).select_related("parent__parent")
    names = {}
    for area in areas:
        path = [area.name]
        above = area.parent
        while above is not None:
            path.insert(0, above.name)
            above = above.parent
        names[area.pk] = " › ".join(path)
    return names


def place_kind_label(kind: str) -> str:
    return capfirst(str(PlaceKind(kind).label))


def child_label(school: School | None, grade: int) -> str:
    return _("%(school)s, grade %(grade)s") % {
        "school": school.name if school else _("unknown school"),
        "grade": grade,
    }
