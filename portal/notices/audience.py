"""Estimated audience of a targeting (issue 8): how many residents a notice would reach.

Only residents whose consent lets the notice's purpose read every data category the targeting
uses are counted, and the count is made by the consent gate (``consent.policy.count_matching``),
which writes each resident it reads to the data-use log as a staff statistic read ("audience
estimate for a notice"), so they see it on their "my data" page.

Staff never see the exact number: a small offset of its own is added to each targeting's count
(the same offset every time for the same targeting), which is then rounded to the nearest 10
(half up: 15 → 20), and anything below 10 is shown as "fewer than 10 residents", so that nobody
can be singled out by a narrow targeting or by comparing two targetings. Two more guards against
narrowing down on one person by differences between estimates: a rate limit per staff member, and
an identical targeting is answered from the cache for a minute.

Which purpose a notice uses depends on its category: disaster notices are disaster warnings,
school notices are school letters, everything else is the personalised home page. A purpose's
consent terms may not cover a category at all (disaster warnings do not cover age): then the
estimate of a targeting that uses it is "fewer than 10" (nobody may be counted), which is the
truth about who the notice can be shown to.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.core.cache import cache
from django.utils.crypto import salted_hmac
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_noop

from consent import policy
from consent.catalogue import PurposeCode, RecipientCode
from portal.infra.rate_limit import seconds_to_wait
from portal.models import Area, InterestTag, School, User
from portal.notices.models import Category as NoticeCategory
from portal.notices.services import Targeting

# Estimates one staff member may ask for per window.
RATE_LIMIT = 20
RATE_WINDOW_SECONDS = 60
# How long an identical targeting's estimate is answered from the cache.
CACHE_SECONDS = 60
SMALLEST_SHOWN = 10
# The largest offset added to a count before rounding (see _noise).
NOISE = 5

READER_NAME = gettext_noop("audience estimate for a notice")

_PURPOSE_OF_CATEGORY: dict[str, str] = {
    NoticeCategory.DISASTER: PurposeCode.DISASTER_WARNINGS,
    NoticeCategory.SCHOOL: PurposeCode.SCHOOL_LETTERS,
}


class EstimateRateLimited(Exception):
    """The staff member asked for too many estimates in a short time."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            gettext("Too many estimates in a short time: try again in %(seconds)d seconds.")
            % {"seconds": retry_after}
        )
        self.retry_after = retry_after


class InvalidTargeting(ValueError):
    """The targeting names an unknown category, area, interest or school, or a bad grade."""


@dataclass(frozen=True)
class AudienceEstimate:
    """What staff may see of an audience: never the exact number."""

    rounded: int | None  # None: fewer than 10
    display: str

    @classmethod
    def of(cls, count: int) -> AudienceEstimate:
        rounded = rounded_count(count)
        if rounded is None:
            return cls(rounded=None, display=gettext("fewer than 10 residents"))
        return cls(
            rounded=rounded,
            display=gettext("about %(count)s residents")
            % {"count": number_format(rounded, force_grouping=True)},
        )


def rounded_count(count: int) -> int | None:
    """``count`` to the nearest 10 (half up), or None below 10."""
    if count < SMALLEST_SHOWN:
        return None
    return (count + 5) // 10 * 10


def purpose_for(category: str) -> str:
    """The consent purpose a notice of this category is shown under."""
    if category not in NoticeCategory.values:
        raise InvalidTargeting(gettext("Unknown notice category: %(code)s") % {"code": category})
    return _PURPOSE_OF_CATEGORY.get(category, PurposeCode.PERSONALISED_HOME)


def estimate_audience(*, targeting: Targeting, category: str, staff: User) -> AudienceEstimate:
    """How many residents ``targeting`` reaches for a notice of ``category``, rounded.

    Raises InvalidTargeting for unknown codes and EstimateRateLimited past RATE_LIMIT
    estimates per minute by ``staff``. Read outside a transaction of your own (the data-use log
    is written in the read's transaction).
    """
    purpose = purpose_for(category)
    spec = audience_spec(targeting)
    _take_a_token(staff)
    key = _cache_key(purpose, spec)
    count = cache.get(key)
    if count is None:
        reader = policy.Reader(
            kind="staff", name=READER_NAME, recipient=RecipientCode.CITY, staff_id=staff.pk
        )
        exact = policy.count_matching(purpose=purpose, reader=reader, spec=spec)
        # Only the rounded figure is kept, even in the cache.
        count = rounded_count(max(0, exact + _noise(key))) or 0
        cache.set(key, count, CACHE_SECONDS)
    return AudienceEstimate.of(count)


def audience_spec(targeting: Targeting) -> policy.AudienceSpec:
    """The targeting with codes resolved to ids; unknown codes are refused."""
    area_codes = set(targeting.area_codes)
    areas = dict(Area.objects.filter(code__in=area_codes).values_list("code", "id"))
    _refuse_unknown(gettext("area"), area_codes - set(areas))
    interest_codes = set(targeting.interest_codes)
    known_interests = set(
        InterestTag.objects.filter(code__in=interest_codes).values_list("code", flat=True)
    )
    _refuse_unknown(gettext("interest"), interest_codes - known_interests)
    school_codes = {code for code, _grade in targeting.school_audiences}
    schools = dict(School.objects.filter(code__in=school_codes).values_list("code", "id"))
    _refuse_unknown(gettext("school"), school_codes - set(schools))
    for _code, grade in targeting.school_audiences:
        if grade is not None and not 1 <= grade <= 12:
            raise InvalidTargeting(gettext("A grade is between 1 and 12."))
    return policy.AudienceSpec(
        area_ids=frozenset(areas.values()),
        age_bands=frozenset(targeting.age_bands),
        school_audiences=frozenset(
            (schools[code], grade) for code, grade in targeting.school_audiences
        ),
        interest_codes=frozenset(interest_codes),
    )


def _refuse_unknown(what: str, unknown: set[str]) -> None:
    if unknown:
        raise InvalidTargeting(
            gettext("Unknown %(what)s: %(codes)s")
            % {"what": what, "codes": ", ".join(sorted(unknown))}
        )


def _take_a_token(staff: User) -> None:
    retry_after = seconds_to_wait(
        f"notices:estimate:{staff.pk}", limit=RATE_LIMIT, window=RATE_WINDOW_SECONDS
    )
    if retry_after:
        raise EstimateRateLimited(retry_after)


def _noise(key: str) -> int:
    """A small offset, the same for the same targeting and unknowable without SECRET_KEY.

    Rounding alone flips at a bucket's edge: comparing two targetings that differ by one area
    or age band could then tell whether one resident is in it. With an offset of its own for
    each targeting, a difference between two estimates says nothing about one person.
    """
    digest = salted_hmac("portal.notices.audience.noise", key, algorithm="sha256").digest()
    return digest[0] % (2 * NOISE + 1) - NOISE


def _cache_key(purpose: str, spec: policy.AudienceSpec) -> str:
    canonical = json.dumps(
        [
            purpose,
            sorted(spec.area_ids),
            sorted(spec.age_bands),
            sorted(
                [school, -1 if grade is None else grade] for school, grade in spec.school_audiences
            ),
            sorted(spec.interest_codes),
        ]
    )
    return "notices:estimate:" + hashlib.sha256(canonical.encode()).hexdigest()
