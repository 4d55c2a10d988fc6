"""A deployment check (``manage.py check --deploy``): the privacy notice, terms of use and
contact page name the bodies and the contact point settings.MACHIPLUS_CITY gives, so a site must
not go live with the demo's placeholders there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning

# Domains reserved for examples (RFC 2606, and JPRS's example.jp): no resident's mail reaches them.
EXAMPLE_DOMAINS = ("example.jp", "example.com", "example.org", "example.net", ".example")


@register(Tags.security, deploy=True)
def city_contact_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    city = getattr(settings, "MACHIPLUS_CITY", {})
    email = str(city.get("contact", {}).get("email", ""))
    operator = city.get("recipients", {}).get("operator", {})
    problems: list[CheckMessage] = []
    if not email or email.lower().endswith(EXAMPLE_DOMAINS):
        problems.append(
            CheckWarning(
                f"The contact point's email is {email or 'empty'}: the privacy notice and the "
                "contact page would send residents' requests nowhere.",
                hint="Set CONTACT_EMAIL (and CONTACT_PHONE, CONTACT_ADDRESS_JA, ...).",
                id="portal.W101",
            )
        )
    if not operator.get("ja"):
        problems.append(
            CheckWarning(
                "The portal operator has no name: the privacy notice cannot name the body that "
                "processes residents' data.",
                hint="Set OPERATOR_NAME_JA and OPERATOR_NAME_EN (the city itself, if it runs "
                "the portal).",
                id="portal.W102",
            )
        )
    return problems
