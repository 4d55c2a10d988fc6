"""“Why am I seeing this?”: a stored entry's reasons in plain words, in the page's language.

A personal reason names the data the scorer used and when the resident chose to share it for
the home page ("It is for 北会津, where one of your places is (you chose to share your places
for your home page on November 20)"). An entry that rests on a category the resident no longer
shares for the home page has no sentences at all, and is not shown: the feed is deleted when
consent narrows and rescored within seconds, so this only covers the moment in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from consent.catalogue import Category
from portal.notices.models import Category as NoticeCategory
from recommendations.scoring import REASON_BITS

# The consent category each personal reason rests on.
REASON_CATEGORY = {
    "area": Category.PLACES,
    "age": Category.AGE,
    "school": Category.HOUSEHOLD,
    "interest": Category.INTERESTS,
    "category": Category.INTERACTIONS,
    "text": Category.INTERACTIONS,
}


@dataclass(frozen=True)
class ReasonNames:
    """What a reason points at, by id, in the page's language."""

    areas: Mapping[int, str]
    interests: Mapping[int, str]
    schools: Mapping[int, str]


def reason_lines(
    *,
    reasons: int,
    category: str,
    area_id: int,
    interest_id: int,
    school_id: int,
    names: ReasonNames,
    granted: Mapping[str, datetime],
) -> list[str]:
    """The sentences for one entry, personal reasons first; none if a personal reason rests on
    a category no longer shared (the entry must not be shown)."""
    personal = [name for name in REASON_CATEGORY if reasons & REASON_BITS[name]]
    if any(REASON_CATEGORY[name] not in granted for name in personal):
        return []
    lines = [
        line
        for name, category_code in REASON_CATEGORY.items()
        if reasons & REASON_BITS[name] and category_code in granted
        for line in [
            _personal_line(
                name,
                on=_day(granted[category_code]),
                category=category,
                area=names.areas.get(area_id, ""),
                interest=names.interests.get(interest_id, ""),
                school=names.schools.get(school_id, ""),
            )
        ]
        if line
    ]
    if reasons & REASON_BITS["urgency"]:
        lines.append(_("It is urgent."))
    if reasons & REASON_BITS["recency"]:
        lines.append(_("It is new."))
    if reasons & REASON_BITS["popularity"]:
        lines.append(_("Many residents opened or saved it."))
    if not personal and (not lines or reasons & REASON_BITS["for_everyone"]):
        lines.append(_("It is for everyone in the city: nothing you share was needed to show it."))
    return lines


def _personal_line(
    name: str, *, on: str, category: str, area: str, interest: str, school: str
) -> str:
    if name == "area" and area:
        # The area is the notice's own target that one of the resident's places lies in (a
        # district, a city), not necessarily the place itself.
        return _(
            "It is for %(area)s, where one of your places is (you chose to share your places "
            "for your home page on %(date)s)."
        ) % {"area": area, "date": on}
    if name == "age":
        return _(
            "It is for your age group, which you chose to share for your home page on %(date)s."
        ) % {"date": on}
    if name == "school" and school:
        return _(
            "It is for %(school)s, your child's school, which you chose to share for your home "
            "page on %(date)s."
        ) % {"school": school, "date": on}
    if name == "interest" and interest:
        return _(
            "It matches your interest “%(interest)s”, which you chose to share for your home "
            "page on %(date)s."
        ) % {"interest": interest, "date": on}
    if name == "category":
        return _(
            "You have opened or saved notices about %(category)s (your history on this site, "
            "which you chose to share for your home page on %(date)s)."
        ) % {"category": _category_label(category), "date": on}
    if name == "text":
        return _(
            "It is like other notices you opened or saved (your history on this site, which you "
            "chose to share for your home page on %(date)s)."
        ) % {"date": on}
    return ""


def _category_label(code: str) -> str:
    try:
        return str(NoticeCategory(code).label)
    except ValueError:
        return code


def _day(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "MONTH_DAY_FORMAT")
