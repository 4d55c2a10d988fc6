"""What the public pages about the portal are given: the city and its contact point, as
settings.MACHIPLUS_CITY names them (read through consent.privacy, which names the same bodies on
the privacy notice, so the pages agree)."""

from __future__ import annotations

from consent.catalogue import RecipientCode
from consent.privacy import city_name, configured_name, contact_point


def about_context() -> dict[str, object]:
    return {
        "city": city_name(),
        "operator": configured_name(RecipientCode.OPERATOR),
        "contact": contact_point(),
    }
