"""The export: everything stored about a resident, as one JSON-ready document."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.utils import timezone
from django.utils.translation import get_language

from consent.policy import ProfileProjection, read_own_data
from consent.receipts import consent_receipt
from consent.selectors import active_purposes_by_category, data_uses, ledger_history, states_of
from portal.models import Area, School, User
from portal.notifications.selectors import export_section

# ------------------------------------------------------------------------------------------------


def export_document(user: User) -> dict[str, Any]:
    """Everything stored about the resident, as one JSON-ready document."""
    data = read_own_data(resident_id=user.pk)
    language = get_language()
    return {
        "exported_at": timezone.now(),
        "account": _export_account(user),
        "profile": _export_profile(data),
        "places": _export_places(data),
        "children": _export_children(data),
        "interests": list(data.interests),
        "consents": _export_consents(user),
        "receipts": [
            consent_receipt(event, language=language)
            for event in ledger_history(pseudonym=user.pseudonym).order_by("id")
        ],
        # One entry per purpose, recipient, reader and day, with how many reads it counts.
        "data_use_log": [
            {
                "day": use.day,
                "purpose": use.purpose_code,
                "categories": use.category_codes,
                "uses": use.use_count,
                "first_at": use.first_at,
                "last_at": use.last_at,
                "reader": {"kind": use.reader_kind, "name": use.reader_name},
                "on_behalf_of": use.recipient_code,
            }
            for use in data_uses(resident_id=user.pk)
        ],
        # Their notification settings and the messages sent to them.
        "notifications": export_section(resident_id=user.pk),
        # What the resident was shown, opened, saved or marked "not interested".
        "interactions": [
            {
                "notice_id": interaction.notice_id,
                "times_shown": interaction.shown_count,
                "first_shown_at": interaction.first_shown_at,
                "opened_at": interaction.opened_at,
                "saved_at": interaction.saved_at,
                "not_interested_at": interaction.dismissed_at,
            }
            for interaction in data.interactions
        ],
    }


def _export_account(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user_id=user.pk).order_by("email")
        ],
        "date_joined": user.date_joined,
        "pseudonym": user.pseudonym,
    }


def _export_profile(data: ProfileProjection) -> dict[str, Any]:
    return {
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
    }


def _export_places(data: ProfileProjection) -> list[dict[str, Any]]:
    areas = Area.objects.in_bulk({place.area_id for place in data.places})
    return [
        {
            "kind": place.kind,
            "area_code": areas[place.area_id].code,
            "area_name_ja": areas[place.area_id].name_ja,
            "area_name_en": areas[place.area_id].name_en,
        }
        for place in data.places
    ]


def _export_children(data: ProfileProjection) -> list[dict[str, Any]]:
    schools = School.objects.in_bulk({child.school_id for child in data.children})
    return [
        {
            "school_code": schools[child.school_id].code,
            "school_name_ja": schools[child.school_id].name_ja,
            "school_name_en": schools[child.school_id].name_en,
            "grade": child.grade,
        }
        for child in data.children
    ]


def _export_consents(user: User) -> list[dict[str, Any]]:
    active = active_purposes_by_category(resident_id=user.pk)
    return [
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
    ]
