"""The privacy notice (プライバシーポリシー), built from the consent catalogue: its data
categories, purposes, recipients and each purpose's current terms. Generated, not written, so it
cannot say something the catalogue does not: a purpose, category or recipient added in the admin
appears here at once, and every retention or validity period is the one the terms publish.

The real bodies behind the catalogue's recipients (the city, its board of education, the
operator) and the contact point come from settings.MACHIPLUS_CITY, which each deployment sets.
Reads only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import get_language

from consent.models import ConsentTerms, DataCategory, Purpose, Recipient
from consent.selectors import all_current_terms, data_categories, purposes_by_code


@dataclass(frozen=True)
class ContactPoint:
    """Where residents ask about their data, and send requests under the APPI."""

    office: str
    email: str
    phone: str
    address: str
    hours: str


@dataclass(frozen=True)
class NamedRecipient:
    """A catalogue recipient, with its legal name and the purposes whose terms name it."""

    recipient: Recipient
    legal_name: str
    purposes: list[Purpose]


@dataclass(frozen=True)
class StoredCategory:
    """A data category, and the purposes whose current terms ask for it."""

    category: DataCategory
    purposes: list[Purpose]


@dataclass(frozen=True)
class PurposeNotice:
    """A purpose and its current terms (None: no terms published, so nothing is asked)."""

    purpose: Purpose
    terms: ConsentTerms | None
    categories: list[DataCategory]
    recipients: list[NamedRecipient]


@dataclass(frozen=True)
class PrivacyNotice:
    controller: str
    categories: list[StoredCategory]
    purposes: list[PurposeNotice]
    recipients: list[NamedRecipient]
    data_use_log_days: int
    session_days: int
    contact: ContactPoint
    updated_at: datetime | None  # the newest terms' publication: when the notice last changed


def privacy_notice() -> PrivacyNotice:
    current = {terms.purpose.code: terms for terms in all_current_terms()}
    purposes = list(purposes_by_code().values())
    purposes.sort(key=lambda purpose: purpose.position)
    categories = list(data_categories())
    recipients = _named_recipients(current)
    by_code = {named.recipient.code: named for named in recipients}
    return PrivacyNotice(
        controller=city_name(),
        categories=[
            StoredCategory(
                category=category,
                purposes=[p for p in purposes if _asks_for(current.get(p.code), category.code)],
            )
            for category in categories
        ],
        purposes=[
            PurposeNotice(
                purpose=purpose,
                terms=current.get(purpose.code),
                categories=[c for c in categories if _asks_for(current.get(purpose.code), c.code)],
                recipients=[
                    by_code[code]
                    for code in sorted(_recipient_codes(current.get(purpose.code)))
                    if code in by_code
                ],
            )
            for purpose in purposes
        ],
        recipients=recipients,
        data_use_log_days=settings.DATA_USE_LOG_RETENTION_DAYS,
        session_days=settings.SESSION_COOKIE_AGE // 86_400,
        contact=contact_point(),
        updated_at=max((terms.published_at for terms in current.values()), default=None),
    )


def city_name() -> str:
    return _localised(_city()["name"])


def contact_point() -> ContactPoint:
    contact: Mapping[str, Any] = _city().get("contact", {})
    return ContactPoint(
        office=_localised(contact.get("office", {})),
        email=str(contact.get("email", "")),
        phone=str(contact.get("phone", "")),
        address=_localised(contact.get("address", {})),
        hours=_localised(contact.get("hours", {})),
    )


def legal_name(recipient: Recipient) -> str:
    """The name settings give the recipient, or the catalogue's own if they give none."""
    return configured_name(recipient.code) or recipient.name


def configured_name(recipient_code: str) -> str:
    """The real body settings name for a recipient code ("" if they name none)."""
    return _localised(_city().get("recipients", {}).get(recipient_code, {}))


def _named_recipients(current: Mapping[str, ConsentTerms]) -> list[NamedRecipient]:
    purposes = {terms.purpose.code: terms.purpose for terms in current.values()}
    return [
        NamedRecipient(
            recipient=recipient,
            legal_name=legal_name(recipient),
            purposes=[
                purposes[code]
                for code, terms in current.items()
                if recipient.code in terms.recipient_codes
            ],
        )
        for recipient in sorted(Recipient.objects.all(), key=_controller_first)
    ]


def _controller_first(recipient: Recipient) -> tuple[int, str]:
    roles = list(Recipient.Role.values)
    return (roles.index(recipient.role) if recipient.role in roles else len(roles), recipient.code)


def _asks_for(terms: ConsentTerms | None, category_code: str) -> bool:
    return terms is not None and category_code in terms.category_codes


def _recipient_codes(terms: ConsentTerms | None) -> list[str]:
    return list(terms.recipient_codes) if terms is not None else []


def _city() -> Mapping[str, Any]:
    # Read on each call, never at import: tests and a city's settings may change it.
    city: Mapping[str, Any] = getattr(settings, "MACHIPLUS_CITY", {})
    return city


def _localised(texts: Mapping[str, str]) -> str:
    """The text in the page's language; Japanese when there is none in it."""
    return texts.get(get_language() or "ja") or texts.get("ja", "")
