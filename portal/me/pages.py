"""What the resident's own pages are given: "my data" (everything stored, what it is used for,
how often it was read, the consent history) and the profile page (one form per data category).

Attributes are read through consent.policy.read_own_data; they are written by the forms in
portal.me.forms, through portal.residents.services.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from consent.catalogue import Category, PurposeCode, RecipientCode
from consent.models import ConsentEvent, DataCategory, DataUseEvent, ReaderKind
from consent.policy import ProfileProjection, read_own_data
from consent.selectors import (
    active_purposes_by_category,
    all_current_terms,
    covered_categories,
    data_categories,
    data_use_summary,
    data_uses_since,
    ledger_history,
    paper_forms_recorded_for,
    purposes_by_code,
    recipients_by_code,
)
from portal.me.forms import (
    BirthYearForm,
    ChildAddForm,
    InterestsForm,
    LanguageForm,
    LocationForm,
    PlaceAddForm,
    ProfileSectionForm,
)
from portal.me.labels import area_paths, child_label, place_kind_label
from portal.models import InterestTag, PreferredLanguage, School, User

USE_SUMMARY_DAYS = 7  # the sentences below say "in the last 7 days"
USE_LIST_DAYS = 31  # the page lists the uses of these days; the download has all of them

# Plain-words pieces of the data-use sentences ("the portal used your places 14 times …").
CATEGORY_PHRASES: dict[str, Promise] = {
    Category.AGE: gettext_lazy("your age band"),
    Category.PLACES: gettext_lazy("your places"),
    Category.HOUSEHOLD: gettext_lazy("your children's schools and grades"),
    Category.INTERESTS: gettext_lazy("your interests"),
    Category.LANGUAGE: gettext_lazy("your language and accessibility needs"),
    Category.LOCATION: gettext_lazy("your precise home location"),
    Category.INTERACTIONS: gettext_lazy("your interaction history"),
}
PURPOSE_PHRASES: dict[str, Promise] = {
    PurposeCode.PERSONALISED_HOME: gettext_lazy("to personalise your home page"),
    PurposeCode.DISASTER_WARNINGS: gettext_lazy("to warn you of disasters in your areas"),
    PurposeCode.SCHOOL_LETTERS: gettext_lazy("to deliver your children's school letters"),
    PurposeCode.PLANNING_STATISTICS: gettext_lazy("for anonymous city planning statistics"),
}
RECIPIENT_PHRASES: dict[str, Promise] = {
    RecipientCode.CITY: gettext_lazy("the city"),
    RecipientCode.OPERATOR: gettext_lazy("the portal operator"),
    RecipientCode.BOARD_OF_EDUCATION: gettext_lazy("the board of education"),
}


# ------------------------------------------------------------------------------------------------
# My data
# ------------------------------------------------------------------------------------------------


def my_data_context(resident: User) -> dict[str, Any]:
    """The "my data" page. The resident's own look at their data is not logged as a use."""
    data = read_own_data(resident_id=resident.pk)
    names = _CatalogueNames.load()
    purposes = active_purposes_by_category(resident_id=resident.pk)
    return {
        "categories": _stored_by_category(data, purposes, names),
        "use_sentences": _use_sentences(resident.pk, names),
        "use_days": _use_days(resident.pk, names),
        "use_list_days": USE_LIST_DAYS,
        "history": [
            _HistoryRow.of(event, names) for event in ledger_history(pseudonym=resident.pseudonym)
        ],
        "paper_forms": list(paper_forms_recorded_for(pseudonym=resident.pseudonym)),
    }


@dataclass(frozen=True)
class _CatalogueNames:
    """Names of categories and purposes in the active language, from the consent catalogue."""

    categories: dict[str, DataCategory]
    purposes: dict[str, str]
    recipients: dict[str, str]

    @classmethod
    def load(cls) -> _CatalogueNames:
        return cls(
            categories={c.code: c for c in data_categories()},
            purposes={code: purpose.name for code, purpose in purposes_by_code().items()},
            recipients={code: r.name for code, r in recipients_by_code().items()},
        )

    def category(self, code: str) -> str:
        category = self.categories.get(code)
        return category.name if category else code

    def category_list(self, codes: list[str]) -> str:
        """Names in the catalogue's order, which is the order the resident sees everywhere."""
        return ", ".join(self.category(code) for code in self.in_order(codes))

    def in_order(self, codes: list[str]) -> list[str]:
        order = list(self.categories)
        return sorted(codes, key=lambda code: _position(order, code))

    def purpose(self, code: str) -> str:
        return self.purposes.get(code, code)

    def category_phrase(self, code: str) -> str:
        return str(CATEGORY_PHRASES.get(code) or self.category(code))

    def purpose_phrase(self, code: str) -> str:
        return str(
            PURPOSE_PHRASES.get(code) or _("for “%(purpose)s”") % {"purpose": self.purpose(code)}
        )

    def recipient_phrase(self, code: str) -> str:
        return str(RECIPIENT_PHRASES.get(code) or self.recipients.get(code, code))


def _position(order: list[str], code: str) -> int:
    return order.index(code) if code in order else len(order)


@dataclass(frozen=True)
class _StoredItem:
    label: str
    value: str


@dataclass(frozen=True)
class _StoredCategory:
    code: str
    name: str
    description: str
    items: list[_StoredItem]
    purposes: list[str]


def _stored_by_category(
    data: ProfileProjection, purposes: dict[str, list[str]], names: _CatalogueNames
) -> list[_StoredCategory]:
    items = _stored_items(data)
    return [
        _StoredCategory(
            code=code,
            name=category.name,
            description=category.description,
            items=items.get(code, []),
            purposes=[names.purpose(purpose) for purpose in purposes.get(code, [])],
        )
        for code, category in names.categories.items()
    ]


def _stored_items(data: ProfileProjection) -> dict[str, list[_StoredItem]]:
    """What is stored, category by category, as label and value."""
    areas = area_paths({place.area_id for place in data.places})
    schools = School.objects.in_bulk({child.school_id for child in data.children})
    return {
        Category.AGE: [
            _StoredItem(_("Birth year"), str(data.birth_year)),
            _StoredItem(_("Age band"), str(data.age_band)),
        ]
        if data.birth_year is not None
        else [],
        Category.PLACES: [
            _StoredItem(place_kind_label(place.kind), areas.get(place.area_id, ""))
            for place in data.places
        ],
        Category.HOUSEHOLD: [
            _StoredItem(_("Child"), child_label(schools.get(child.school_id), child.grade))
            for child in data.children
        ],
        Category.INTERESTS: [
            _StoredItem(_("Interest"), tag.name)
            for tag in InterestTag.objects.filter(code__in=data.interests)
        ],
        Category.LANGUAGE: _language_items(data),
        Category.INTERACTIONS: _interaction_items(data),
        Category.LOCATION: [
            _StoredItem(_("Latitude"), str(data.home_location[0])),
            _StoredItem(_("Longitude"), str(data.home_location[1])),
        ]
        if data.home_location is not None
        else [],
    }


def _interaction_items(data: ProfileProjection) -> list[_StoredItem]:
    """How many notices the resident was shown, opened, saved and set aside; the export lists
    each one."""
    interactions = data.interactions
    if not interactions:
        return []
    counts = [
        (_("Notices shown to you"), len(interactions)),
        (_("Notices you opened"), sum(i.opened_at is not None for i in interactions)),
        (_("Notices you saved"), sum(i.saved_at is not None for i in interactions)),
        (
            _("Notices you marked “not interested”"),
            sum(i.dismissed_at is not None for i in interactions),
        ),
    ]
    return [_StoredItem(label, str(count)) for label, count in counts]


def _language_items(data: ProfileProjection) -> list[_StoredItem]:
    items = []
    if data.preferred_language:
        label = PreferredLanguage(data.preferred_language).label
        items.append(_StoredItem(_("Preferred language"), str(label)))
    if data.needs_large_text:
        items.append(_StoredItem(_("Large text"), _("needed")))
    if data.needs_easy_japanese:
        items.append(_StoredItem(_("Easy Japanese"), _("needed")))
    return items


def _use_sentences(resident_id: int, names: _CatalogueNames) -> list[str]:
    """Per category and purpose, the uses of the last 7 days: the same rows as the list of
    days below, so the two always agree."""
    order = list(names.categories)
    uses = sorted(
        data_use_summary(resident_id=resident_id, days=USE_SUMMARY_DAYS),
        key=lambda use: (_position(order, use.category_code), use.purpose_code),
    )
    return [
        ngettext(
            "In the last 7 days, the portal used %(what)s %(count)d time %(why)s.",
            "In the last 7 days, the portal used %(what)s %(count)d times %(why)s.",
            use.uses,
        )
        % {
            "what": names.category_phrase(use.category_code),
            "count": use.uses,
            "why": names.purpose_phrase(use.purpose_code),
        }
        for use in uses
    ]


@dataclass(frozen=True)
class _UsesOfPurpose:
    why: str
    uses: list[str]


@dataclass(frozen=True)
class _UseDay:
    day: date
    label: str
    purposes: list[_UsesOfPurpose]


def _use_days(resident_id: int, names: _CatalogueNames) -> list[_UseDay]:
    """The log of the last days, newest first, each day grouped by purpose, in words."""
    by_day: dict[date, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for use in data_uses_since(resident_id=resident_id, days=USE_LIST_DAYS):
        by_day[use.day][use.purpose_code].append(_use_sentence(use, names))
    return [
        _UseDay(
            day=day,
            label=date_format(day, "MONTH_DAY_FORMAT"),
            purposes=[
                _UsesOfPurpose(why=capfirst(names.purpose_phrase(code)), uses=uses)
                for code, uses in purposes.items()
            ],
        )
        for day, purposes in by_day.items()
    ]


def _use_sentence(use: DataUseEvent, names: _CatalogueNames) -> str:
    """ "Your places and your interests, 3 times, on behalf of the city, by a background task
    (ranking your home page)." """
    what = _and_list([names.category_phrase(code) for code in names.in_order(use.category_codes)])
    reader = _("%(kind)s (%(name)s)") % {
        "kind": ReaderKind(use.reader_kind).label,
        # Reader names are English words marked with gettext_noop where the read is made.
        "name": _(use.reader_name),
    }
    sentence = ngettext(
        "%(what)s, %(count)d time, on behalf of %(recipient)s, by %(reader)s.",
        "%(what)s, %(count)d times, on behalf of %(recipient)s, by %(reader)s.",
        use.use_count,
    ) % {
        "what": what,
        "count": use.use_count,
        "recipient": names.recipient_phrase(use.recipient_code),
        "reader": reader,
    }
    return capfirst(sentence)


def _and_list(phrases: list[str]) -> str:
    """ "a, b and c" in the active language."""
    if len(phrases) < 2:
        return "".join(phrases)
    return _("%(list)s and %(last)s") % {
        "list": pgettext("separator in a list of things", ", ").join(phrases[:-1]),
        "last": phrases[-1],
    }


@dataclass(frozen=True)
class _HistoryRow:
    event: ConsentEvent
    purpose: str
    categories: str

    @classmethod
    def of(cls, event: ConsentEvent, names: _CatalogueNames) -> _HistoryRow:
        return cls(
            event=event,
            purpose=names.purpose(event.purpose_code),
            categories=names.category_list(event.category_codes),
        )


# ------------------------------------------------------------------------------------------------
# Profile page
# ------------------------------------------------------------------------------------------------

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
    data = read_own_data(resident_id=resident_id)
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


@dataclass(frozen=True)
class Removal:
    """A place or child the resident is asked to confirm removing, before anything is removed."""

    section: str  # the profile section that lists it (Category.PLACES or Category.HOUSEHOLD)
    item_id: int
    name: str  # "Home: 会津若松市 › 鶴城 › 東栄町", "Tsuruga Elementary School, grade 3"
    action: str  # the URL the confirmation posts to, and that removes it

    @property
    def question(self) -> str:
        return _("Remove “%(name)s”?") % {"name": self.name}


def place_removal(*, resident_id: int, place_id: int) -> Removal | None:
    """The confirmation before removing a place; None when the place is not the resident's."""
    data = read_own_data(resident_id=resident_id)
    for place in _listed_places(data):
        if place.id == place_id:
            return Removal(
                section=Category.PLACES,
                item_id=place_id,
                name=_("%(kind)s: %(area)s") % {"kind": place.kind, "area": place.area},
                action=reverse("me:place_remove", args=[place_id]),
            )
    return None


def child_removal(*, resident_id: int, child_id: int) -> Removal | None:
    """The confirmation before removing a child; None when the child is not the resident's."""
    data = read_own_data(resident_id=resident_id)
    for child in _listed_children(data):
        if child.id == child_id:
            return Removal(
                section=Category.HOUSEHOLD,
                item_id=child_id,
                name=child.label,
                action=reverse("me:child_remove", args=[child_id]),
            )
    return None


def _consent_offers() -> dict[str, list[_Offer]]:
    """For each category, the purposes whose current terms ask for it (to opt in from here)."""
    offers: dict[str, list[_Offer]] = {code: [] for code in PROFILE_CATEGORIES}
    for terms in all_current_terms():
        for code in terms.category_codes:
            if code in offers:
                offers[code].append(_Offer(terms.purpose.code, terms.purpose.name))
    return offers
