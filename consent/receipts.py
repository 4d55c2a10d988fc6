"""Consent receipts: one ledger event as a record shaped after ISO/IEC TS 27560:2023, with a
projection onto the Kantara Initiative Consent Receipt v1.1 field names where they map.

The receipt is built from the event and the catalogue rows it names, in the language asked
for; it writes nothing and never names the account (only its pseudonym).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from consent.models import (
    ActorKind,
    Channel,
    ConsentEvent,
    DataCategory,
    EventKind,
    LocalisedTextMixin,
    Recipient,
)

ISO_27560 = {
    "standard": "ISO/IEC TS 27560:2023",
    "title": "Privacy technologies — Consent record information structure",
    "url": "https://www.iso.org/standard/80392.html",
}
SCHEMA_VERSION = "1.0"
KANTARA_VERSION = "KI-CR-v1.1.0"
JURISDICTION = "JP"
LANGUAGES = ("ja", "en")

# The consent states of ISO/IEC TS 27560 with their Data Privacy Vocabulary terms.
_STATE_OF_KIND: dict[str, tuple[str, str]] = {
    EventKind.GRANT: ("given", "dpv:ConsentGiven"),
    EventKind.REFUSE: ("refused", "dpv:ConsentRefused"),
    EventKind.WITHDRAW: ("withdrawn", "dpv:ConsentWithdrawn"),
    EventKind.EXPIRE: ("expired", "dpv:ConsentExpired"),
}


def receipt_language(language: str | None) -> str:
    """The receipt languages are the site's: Japanese unless English is asked for."""
    return "en" if (language or "").lower().startswith("en") else "ja"


def consent_receipt(event: ConsentEvent, *, language: str) -> dict[str, Any]:
    """The receipt of one consent event, in ``language`` ("ja" or "en")."""
    lang = receipt_language(language)
    with translation.override(lang):
        return _receipt(event, lang)


def _receipt(event: ConsentEvent, lang: str) -> dict[str, Any]:
    terms = event.terms
    purpose = terms.purpose
    categories = list(
        DataCategory.objects.filter(code__in=event.category_codes).order_by("position")
    )
    recipients = list(Recipient.objects.filter(code__in=event.recipient_codes).order_by("code"))
    controllers = [r for r in recipients if r.role == Recipient.Role.CONTROLLER]
    third_parties = [r for r in recipients if r.role == Recipient.Role.THIRD_PARTY]
    state, state_term = _STATE_OF_KIND[event.kind]
    occurred_at = timezone.localtime(event.occurred_at)
    policy_url = settings.SITE_URL + reverse("consent:purpose", args=[purpose.code])
    retention = f"P{terms.retention_days}D"
    validity = f"P{terms.valid_days}D" if terms.valid_days else None
    withdrawal_method = terms.withdrawal_method_en if lang == "en" else terms.withdrawal_method_ja
    purpose_entry = {
        "code": purpose.code,
        "name": _text(purpose, "name", lang),
        "description": _text(purpose, "description", lang),
        "dpv_term": purpose.dpv_term,
    }
    category_entries = [
        {"code": c.code, "name": _text(c, "name", lang), "dpv_term": c.dpv_term} for c in categories
    ]
    recipient_entries = [
        {
            "code": r.code,
            "name": _text(r, "name", lang),
            "role": r.role,
            "role_label": str(r.get_role_display()),
            "dpv_term": r.dpv_term,
        }
        for r in recipients
    ]
    controller = next(
        (entry for entry in recipient_entries if entry["role"] == Recipient.Role.CONTROLLER), None
    )
    return {
        "schema": ISO_27560,
        "schema_version": SCHEMA_VERSION,
        "record_id": str(event.public_id),
        "language": lang,
        "pii_principal_id": str(event.subject_pseudonym),
        "notice": {
            "notice_id": terms.content_hash,
            "version": terms.version,
            "language": lang,
            "text": terms.text_en if lang == "en" else terms.text_ja,
            "url": policy_url,
            "published_at": timezone.localtime(terms.published_at).isoformat(),
        },
        "purposes": [purpose_entry],
        "pii_categories": category_entries,
        "controller": controller,
        "recipients": recipient_entries,
        "retention": {
            "duration": retention,
            "from": "consent_end",
            "description": _(
                "At most this long after the consent ends (withdrawal, refusal or expiry)."
            ),
        },
        "consent_validity": validity,
        "jurisdiction": JURISDICTION,
        "withdrawal_method": withdrawal_method,
        "event": {
            "type": event.kind,
            "state": state,
            "dpv_term": state_term,
            "time": occurred_at.isoformat(),
            "channel": event.channel,
            "channel_label": str(Channel(event.channel).label),
            "recorded_by": _recorded_by(event),
            "paper_form_reference": event.paper_form_reference or None,
        },
        "integrity": {
            "algorithm": "SHA-256",
            "hash": event.hash,
            "previous_hash": event.previous_hash,
        },
        "kantara_consent_receipt_v1_1": {
            "version": KANTARA_VERSION,
            "jurisdiction": JURISDICTION,
            "consentTimestamp": int(event.occurred_at.timestamp()),
            "collectionMethod": _collection_method(event),
            "consentReceiptID": str(event.public_id),
            "language": lang,
            "piiPrincipalId": str(event.subject_pseudonym),
            "piiControllers": [
                {
                    "piiController": _text(c, "name", lang),
                    "contact": _text(c, "name", lang),
                    "piiControllerUrl": settings.SITE_URL,
                }
                for c in controllers
            ],
            "policyUrl": policy_url,
            "services": [
                {
                    "service": _("Machi+ resident portal"),
                    "purposes": [
                        {
                            "purpose": purpose_entry["name"],
                            "purposeCategory": [purpose.dpv_term],
                            "consentType": "EXPLICIT",
                            "piiCategory": [entry["name"] for entry in category_entries],
                            "primaryPurpose": True,
                            "termination": _termination(terms.valid_days),
                            "thirdPartyDisclosure": bool(third_parties),
                            "thirdPartyName": ", ".join(
                                _text(r, "name", lang) for r in third_parties
                            ),
                        }
                    ],
                }
            ],
            "sensitive": False,
            "spiCat": [],
        },
    }


def _text(row: LocalisedTextMixin, field: str, lang: str) -> str:
    value: str = getattr(row, f"{field}_{lang}")
    return value


def _recorded_by(event: ConsentEvent) -> dict[str, str | None]:
    if event.actor_kind == ActorKind.STAFF:
        return {"kind": event.actor_kind, "pseudonym": str(event.actor_pseudonym)}
    if event.actor_kind == ActorKind.RESIDENT:
        return {"kind": event.actor_kind, "pseudonym": str(event.subject_pseudonym)}
    return {"kind": event.actor_kind, "pseudonym": None}


def _collection_method(event: ConsentEvent) -> str:
    if event.channel == Channel.COUNTER:
        return _("Paper form at the city counter, reference %(reference)s") % {
            "reference": event.paper_form_reference
        }
    if event.channel == Channel.SYSTEM:
        return _("Recorded by the system")
    return _("Web form on the Machi+ portal")


def _termination(valid_days: int | None) -> str:
    if valid_days:
        return ngettext(
            "When withdrawn, or after %(days)s day",
            "When withdrawn, or after %(days)s days",
            valid_days,
        ) % {"days": valid_days}
    return _("When withdrawn")
