"""The resident's own pages: "my data", the export, the profile form, deleting the account.

Attributes are read only through consent.policy.read_own_data (each read lands in the resident's
data-use log) and written only through portal.profile_services, by the forms in portal.forms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from allauth.account.decorators import reauthentication_required
from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from consent.catalogue import SUBJECT_ACCESS, Category, PurposeCode
from consent.models import ConsentEvent, DataCategory, DataUseEvent, Purpose
from consent.policy import ProfileProjection, Reader, read_own_data
from consent.receipts import consent_receipt
from consent.selectors import (
    active_purposes_by_category,
    all_current_terms,
    covered_categories,
    data_use_summary,
    ledger_history,
    recent_data_uses,
    states_of,
)
from portal.account_services import account_delete
from portal.forms import (
    AccountDeleteForm,
    BirthYearForm,
    ChildAddForm,
    InterestsForm,
    LanguageForm,
    LocationForm,
    PlaceAddForm,
    ProfileSectionForm,
)
from portal.models import Area, InterestTag, PlaceKind, PreferredLanguage, School, User
from portal.profile_services import child_remove, place_remove

EXPORT_FILENAME = "machiplus-my-data.json"
USE_SUMMARY_DAYS = 7  # the sentences below say "in the last 7 days"
RECENT_USES_SHOWN = 20

# The single-valued sections of the profile page, each posted to /me/profile/<category>/.
SECTION_FORMS: dict[str, type[ProfileSectionForm]] = {
    Category.AGE: BirthYearForm,
    Category.LANGUAGE: LanguageForm,
    Category.LOCATION: LocationForm,
    Category.INTERESTS: InterestsForm,
}
PROFILE_CATEGORIES = (*SECTION_FORMS, Category.PLACES, Category.HOUSEHOLD)

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


class ResidentRequest(HttpRequest):
    """A request that passed ``login_required``, annotated by django-htmx's middleware."""

    user: User
    htmx: HtmxDetails


# ------------------------------------------------------------------------------------------------
# My data
# ------------------------------------------------------------------------------------------------


@login_required
@require_GET
def my_data(request: ResidentRequest) -> HttpResponse:
    resident = request.user
    data = read_own_data(resident_id=resident.pk, reader=Reader(kind="view", name="me:data"))
    names = _CatalogueNames.load()
    purposes = active_purposes_by_category(resident_id=resident.pk)
    return render(
        request,
        "portal/me/data.html",
        {
            "categories": _stored_by_category(data, purposes, names),
            "use_sentences": _use_sentences(resident.pk, names),
            "recent_uses": [
                _UseRow.of(use, names)
                for use in recent_data_uses(resident_id=resident.pk, limit=RECENT_USES_SHOWN)
            ],
            "history": [
                _HistoryRow.of(event, names)
                for event in ledger_history(pseudonym=resident.pseudonym)
            ],
        },
    )


@dataclass(frozen=True)
class _CatalogueNames:
    """Names of categories and purposes in the active language, from the consent catalogue."""

    categories: dict[str, DataCategory]
    purposes: dict[str, str]

    @classmethod
    def load(cls) -> _CatalogueNames:
        return cls(
            categories={c.code: c for c in DataCategory.objects.order_by("position")},
            purposes={p.code: p.name for p in Purpose.objects.all()}
            | {SUBJECT_ACCESS: _("You, looking at your own data")},
        )

    def category(self, code: str) -> str:
        category = self.categories.get(code)
        return category.name if category else code

    def category_list(self, codes: list[str]) -> str:
        """Names in the catalogue's order, which is the order the resident sees everywhere."""
        order = list(self.categories)
        ranked = sorted(codes, key=lambda code: _position(order, code))
        return ", ".join(self.category(code) for code in ranked)

    def purpose(self, code: str) -> str:
        return self.purposes.get(code, code)


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
    areas = _area_names({place.area_id for place in data.places})
    schools = School.objects.in_bulk({child.school_id for child in data.children})
    items: dict[str, list[_StoredItem]] = {
        Category.AGE: [
            _StoredItem(_("Birth year"), str(data.birth_year)),
            _StoredItem(_("Age band"), str(data.age_band)),
        ]
        if data.birth_year is not None
        else [],
        Category.PLACES: [
            _StoredItem(capfirst(str(PlaceKind(place.kind).label)), areas.get(place.area_id, ""))
            for place in data.places
        ],
        Category.HOUSEHOLD: [
            _StoredItem(_("Child"), _child_label(schools.get(child.school_id), child.grade))
            for child in data.children
        ],
        Category.INTERESTS: [
            _StoredItem(_("Interest"), tag.name)
            for tag in InterestTag.objects.filter(code__in=data.interests)
        ],
        Category.LANGUAGE: _language_items(data),
        Category.LOCATION: [
            _StoredItem(_("Latitude"), str(data.home_location[0])),
            _StoredItem(_("Longitude"), str(data.home_location[1])),
        ]
        if data.home_location is not None
        else [],
    }
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


def _area_names(area_ids: set[int]) -> dict[int, str]:
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


def _child_label(school: School | None, grade: int) -> str:
    return _("%(school)s, grade %(grade)s") % {
        "school": school.name if school else _("unknown school"),
        "grade": grade,
    }


def _use_sentences(resident_id: int, names: _CatalogueNames) -> list[str]:
    # The resident's own look at their data is in the table below, not counted as a use here.
    order = list(names.categories)
    uses = sorted(
        (
            use
            for use in data_use_summary(resident_id=resident_id, days=USE_SUMMARY_DAYS)
            if use.purpose_code != SUBJECT_ACCESS
        ),
        key=lambda use: (_position(order, use.category_code), use.purpose_code),
    )
    return [
        ngettext(
            "In the last 7 days, the portal used %(what)s %(count)d time %(why)s.",
            "In the last 7 days, the portal used %(what)s %(count)d times %(why)s.",
            use.uses,
        )
        % {
            "what": CATEGORY_PHRASES.get(use.category_code) or names.category(use.category_code),
            "count": use.uses,
            "why": PURPOSE_PHRASES.get(use.purpose_code)
            or _("for “%(purpose)s”") % {"purpose": names.purpose(use.purpose_code)},
        }
        for use in uses
    ]


@dataclass(frozen=True)
class _UseRow:
    event: DataUseEvent
    purpose: str
    categories: str

    @classmethod
    def of(cls, event: DataUseEvent, names: _CatalogueNames) -> _UseRow:
        return cls(
            event=event,
            purpose=names.purpose(event.purpose_code),
            categories=names.category_list(event.category_codes),
        )


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
# Export
# ------------------------------------------------------------------------------------------------


@login_required
@never_cache
@require_GET
def export(request: ResidentRequest) -> HttpResponse:
    """Everything stored about the logged-in resident, as one JSON download."""
    document = _export_document(request.user)
    body = json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body.encode(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{EXPORT_FILENAME}"'
    return response


def _export_document(user: User) -> dict[str, Any]:
    data = read_own_data(resident_id=user.pk, reader=Reader(kind="view", name="me:export"))
    areas = Area.objects.in_bulk({place.area_id for place in data.places})
    schools = School.objects.in_bulk({child.school_id for child in data.children})
    active = active_purposes_by_category(resident_id=user.pk)
    language = get_language()
    return {
        "exported_at": timezone.now(),
        "account": {
            "email": user.email,
            "email_addresses": [
                {"email": address.email, "verified": address.verified, "primary": address.primary}
                for address in EmailAddress.objects.filter(user_id=user.pk).order_by("email")
            ],
            "date_joined": user.date_joined,
            "pseudonym": user.pseudonym,
        },
        "profile": {
            "birth_year": data.birth_year,
            "age_band": data.age_band,
            "preferred_language": data.preferred_language,
            "needs_large_text": data.needs_large_text,
            "needs_easy_japanese": data.needs_easy_japanese,
            "home_location": {
                "latitude": data.home_location[0],
                "longitude": data.home_location[1],
            }
            if data.home_location is not None
            else None,
        },
        "places": [
            {
                "kind": place.kind,
                "area_code": areas[place.area_id].code,
                "area_name_ja": areas[place.area_id].name_ja,
                "area_name_en": areas[place.area_id].name_en,
            }
            for place in data.places
        ],
        "children": [
            {
                "school_code": schools[child.school_id].code,
                "school_name_ja": schools[child.school_id].name_ja,
                "school_name_en": schools[child.school_id].name_en,
                "grade": child.grade,
            }
            for child in data.children
        ],
        "interests": list(data.interests),
        "consents": [
            {
                "purpose": state.purpose.code,
                "category": state.category.code,
                "status": state.status,
                "active": state.purpose.code in active.get(state.category.code, []),
                "terms_version": state.terms.version,
                "terms_hash": state.terms.content_hash,
                "since": state.changed_at,
                "expires_at": state.expires_at,
            }
            for state in states_of(resident_id=user.pk).order_by(
                "purpose__position", "category__position"
            )
        ],
        "receipts": [
            consent_receipt(event, language=language)
            for event in ledger_history(pseudonym=user.pseudonym).order_by("id")
        ],
        "data_use_log": [
            {
                "at": use.at,
                "purpose": use.purpose_code,
                "categories": use.category_codes,
                "reader": {"kind": use.reader_kind, "name": use.reader_name},
            }
            for use in DataUseEvent.objects.filter(resident_id=user.pk).order_by("at", "id")
        ],
        # What the resident opened, saved or dismissed: the recommendations app records it and
        # will add it here, read through consent.policy like every other attribute.
        "interactions": [],
    }


# ------------------------------------------------------------------------------------------------
# Profile form
# ------------------------------------------------------------------------------------------------


@login_required
@require_GET
def profile(request: ResidentRequest) -> HttpResponse:
    return _profile_page(request)


@login_required
@require_POST
def profile_section(request: ResidentRequest, section: str) -> HttpResponse:
    form_class = SECTION_FORMS.get(section)
    if form_class is None:
        raise Http404
    form = form_class(request.POST)
    if not form.store(resident_id=request.user.pk):
        return _profile_page(request, failed=form)
    messages.success(request, _("Your changes are saved."))
    return redirect(_profile_url(section))


@login_required
@require_POST
def add_place(request: ResidentRequest) -> HttpResponse:
    form = PlaceAddForm(request.POST)
    stored = form.store(resident_id=request.user.pk)
    return _list_changed(
        request, Category.PLACES, failed=None if stored else form, done=_("The place is added.")
    )


@login_required
@require_POST
def remove_place(request: ResidentRequest, place_id: int) -> HttpResponse:
    if not place_remove(resident_id=request.user.pk, place_id=place_id):
        raise Http404
    return _list_changed(request, Category.PLACES, done=_("The place is removed."))


@login_required
@require_POST
def add_child(request: ResidentRequest) -> HttpResponse:
    form = ChildAddForm(request.POST)
    stored = form.store(resident_id=request.user.pk)
    return _list_changed(
        request, Category.HOUSEHOLD, failed=None if stored else form, done=_("The child is added.")
    )


@login_required
@require_POST
def remove_child(request: ResidentRequest, child_id: int) -> HttpResponse:
    if not child_remove(resident_id=request.user.pk, child_id=child_id):
        raise Http404
    return _list_changed(request, Category.HOUSEHOLD, done=_("The child is removed."))


def _list_changed(
    request: ResidentRequest,
    section: str,
    *,
    done: str,
    failed: ProfileSectionForm | None = None,
) -> HttpResponse:
    if request.htmx:
        # htmx swaps only 2xx responses by default: a refusal comes back as 200 too, with its
        # errors inside the swapped section.
        context = _profile_context(request, failed=failed)
        context["done"] = "" if failed else done
        return render(request, f"portal/me/profile.html#{section}", context)
    if failed is not None:
        return _profile_page(request, failed=failed)
    messages.success(request, done)
    return redirect(_profile_url(section))


def _profile_page(
    request: ResidentRequest, *, failed: ProfileSectionForm | None = None
) -> HttpResponse:
    return render(
        request,
        "portal/me/profile.html",
        _profile_context(request, failed=failed),
        status=200 if failed is None else 400,
    )


def _profile_url(section: str) -> str:
    return f"{reverse('me:profile')}#{section}"


@dataclass(frozen=True)
class _ListedPlace:
    id: int
    kind: str
    area: str


@dataclass(frozen=True)
class _ListedChild:
    id: int
    label: str


def _profile_context(
    request: ResidentRequest, *, failed: ProfileSectionForm | None
) -> dict[str, Any]:
    resident_id = request.user.pk
    data = read_own_data(resident_id=resident_id, reader=Reader(kind="view", name="me:profile"))
    covered = covered_categories(resident_id=resident_id)
    forms: dict[str, ProfileSectionForm] = {
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
    if failed is not None:
        forms[failed.category] = failed
    areas = _area_names({place.area_id for place in data.places})
    schools = School.objects.in_bulk({child.school_id for child in data.children})
    return {
        "forms": forms,
        "failed": failed,
        "shared": {code: code in covered for code in PROFILE_CATEGORIES},
        "offers": _consent_offers(),
        "places": [
            _ListedPlace(
                id=place.id,
                kind=capfirst(str(PlaceKind(place.kind).label)),
                area=areas.get(place.area_id, ""),
            )
            for place in data.places
        ],
        "children": [
            _ListedChild(id=child.id, label=_child_label(schools.get(child.school_id), child.grade))
            for child in data.children
        ],
    }


@dataclass(frozen=True)
class _Offer:
    purpose_code: str
    purpose_name: str


def _consent_offers() -> dict[str, list[_Offer]]:
    """For each category, the purposes whose current terms ask for it (to opt in from here)."""
    offers: dict[str, list[_Offer]] = {code: [] for code in PROFILE_CATEGORIES}
    for terms in all_current_terms():
        for code in terms.category_codes:
            if code in offers:
                offers[code].append(_Offer(terms.purpose.code, terms.purpose.name))
    return offers


# ------------------------------------------------------------------------------------------------
# Account deletion
# ------------------------------------------------------------------------------------------------


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def delete_account(request: ResidentRequest) -> HttpResponse:
    """Confirm, then erase the account. Re-authentication brings the resident back here by GET,
    or replays a suspended POST."""
    user = request.user
    form = AccountDeleteForm(request.POST if request.method == "POST" else None, user=user)
    if form.is_valid():
        account_delete(user=user)
        logout(request)
        messages.success(request, _("Your account is deleted, and your personal data with it."))
        return redirect("home")
    consents = sum(len(p) for p in active_purposes_by_category(resident_id=user.pk).values())
    return render(
        request,
        "portal/me/delete.html",
        {"form": form, "active_consents": consents},
        status=400 if form.is_bound else 200,
    )
