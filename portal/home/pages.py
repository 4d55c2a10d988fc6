"""What the home page is given.

Signed in: the warnings in force for the resident's areas (read live from the notices through
the consent gate for disaster warnings, so they show while the worker or the model is down) and
the shelters nearest their home (in the banner while a warning is in force, in a panel of their
own otherwise); the "for you" list from the stored feed with why each
notice is there; the plow status of their places and their children's school letters. Signed
out: the warnings for everyone and the city's latest news. Nothing here scores: the worker did.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_noop

from consent import policy
from consent.catalogue import Category, PurposeCode, RecipientCode
from consent.selectors import Sharing, sharing_now
from portal.models import Shelter
from portal.notices.models import Acknowledgement, Notice
from portal.notices.selectors import (
    NOTICE_TEXTS,
    SCHOOL_LETTERS_NEED,
    URGENT,
    letters_for_household,
    public_notice_list,
    published_notices,
    urgent_notices,
)
from portal.places.selectors import (
    HOME_DISTANCE_RESOLUTION_M,
    NearbyShelter,
    city_overview,
    nearest_shelters,
    shelters_near_areas,
)
from portal.snow.selectors import plow_rows_near
from recommendations.selectors import explained_feed

# Notices of the "for you" list shown at first; "more" shows the rest of the stored feed.
FIRST_FOR_YOU = 8
# School letters on the school card.
LETTERS_ON_CARD = 3


@dataclass(frozen=True)
class ShelterGuidance:
    nearest: list[NearbyShelter]
    in_my_areas: list[Shelter]


@dataclass(frozen=True)
class Urgent:
    """The banner: warnings in force for everyone and for the resident's areas."""

    warnings: list[Notice]
    shelters: ShelterGuidance | None = None

    @property
    def fingerprint(self) -> str:
        """What the banner shows, in a few characters: the page sends it back with each refresh
        and is told "nothing new" (204) while it is the same, so a screen reader does not read
        the same warnings out again."""
        shown = ",".join(f"{w.pk}:{w.updated_at.timestamp():.0f}" for w in self.warnings)
        return hashlib.sha256(shown.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class HomeItem:
    """A notice of the "for you" list, why it is there, and whether the resident saved it."""

    notice: Notice
    reasons: list[str]
    saved: bool

    @property
    def urgent(self) -> bool:
        """A warning or an emergency: it cannot be set aside."""
        return self.notice.urgency in URGENT


@dataclass(frozen=True)
class ForYou:
    """The "for you" list: the stored feed, or the city's latest news when there is none."""

    items: list[HomeItem]
    personalised: bool
    city_news: list[Notice] = field(default_factory=list)
    may_keep_history: bool = False  # the resident shares their history here: save, set aside
    dismissed: frozenset[int] = frozenset()  # set aside ("not interested"): may be undone

    def first(self) -> list[HomeItem]:
        return self.items[:FIRST_FOR_YOU]

    def rest(self) -> list[HomeItem]:
        return self.items[FIRST_FOR_YOU:]

    def item(self, notice_id: int) -> HomeItem | None:
        return next((item for item in self.items if item.notice.pk == notice_id), None)


@dataclass(frozen=True)
class SchoolLetter:
    notice: Notice
    acknowledged: bool


# What the signed-in home page reads of the resident, one need per purpose.
WARNINGS_NEED = policy.Need(
    purpose=PurposeCode.DISASTER_WARNINGS,
    reader=policy.Reader(
        kind="view",
        name=gettext_noop("the warnings and shelters on your home page"),
        recipient=RecipientCode.CITY,
    ),
    # Their home's location and their places: the warnings in their areas, the shelters near.
    categories=(Category.LOCATION, Category.PLACES),
)
HOME_PAGE_NEED = policy.Need(
    purpose=PurposeCode.PERSONALISED_HOME,
    reader=policy.Reader(
        kind="view",
        name=gettext_noop("the snow card and your saved notices on your home page"),
        recipient=RecipientCode.CITY,
    ),
    # Their places (the snow card) and what they did with notices (saved ones are marked).
    categories=(Category.PLACES, Category.INTERACTIONS),
)


def home_context(*, resident_id: int | None) -> dict[str, Any]:
    if resident_id is None:
        return {
            "urgent": urgent_banner(resident_id=None),
            "city_news": list(public_notice_list().defer(*NOTICE_TEXTS)[:FIRST_FOR_YOU]),
            "overview": city_overview(),
        }
    # The page's three purposes read in one go (each logged under its own reader).
    for_warnings, shared, household = policy.read_profile_for_purposes(
        resident_id=resident_id, needs=[WARNINGS_NEED, HOME_PAGE_NEED, SCHOOL_LETTERS_NEED]
    )
    sharing = sharing_now(resident_id=resident_id)
    return {
        "urgent": banner_for(for_warnings),
        # The first notices, and one more to know whether "more" has anything to show.
        "for_you": for_you(
            resident_id=resident_id, shared=shared, sharing=sharing, limit=FIRST_FOR_YOU + 1
        ),
        "snow": plow_rows_near(area_ids=[place.area_id for place in shared.places]),
        "letters": school_letters(resident_id=resident_id, household=household),
        "shared_category_count": len(sharing.categories),
        "overview": city_overview(),
    }


def urgent_banner(*, resident_id: int | None) -> Urgent:
    """Live from the notices: what the banner (and its htmx refresh) shows."""
    if resident_id is None:
        return Urgent(warnings=urgent_notices())
    return banner_for(_read(resident_id, WARNINGS_NEED))


def banner_for(shared: policy.ProfileProjection) -> Urgent:
    """The banner of a resident, from what they share for disaster warnings."""
    warnings = urgent_notices(area_ids=[place.area_id for place in shared.places])
    return Urgent(warnings=warnings, shelters=shelter_guidance(shared))


def shared_for_home_page(*, resident_id: int) -> policy.ProfileProjection:
    """What the resident agreed to share for their home page that the page itself shows."""
    return _read(resident_id, HOME_PAGE_NEED)


def _read(resident_id: int, need: policy.Need) -> policy.ProfileProjection:
    (projection,) = policy.read_profile_for_purposes(resident_id=resident_id, needs=[need])
    return projection


def for_you(
    *,
    resident_id: int,
    shared: policy.ProfileProjection,
    sharing: Sharing | None = None,
    limit: int | None = None,
) -> ForYou:
    """The list (its first ``limit`` notices, if given); ``sharing``: the resident's grants,
    when the caller has read them already."""
    saved = {
        interaction.notice_id
        for interaction in shared.interactions
        if interaction.saved_at is not None
    }
    items = [
        HomeItem(
            notice=explained.notice, reasons=explained.reasons, saved=explained.notice.pk in saved
        )
        for explained in explained_feed(
            resident_id=resident_id,
            granted=None if sharing is None else sharing.grant_dates(PurposeCode.PERSONALISED_HOME),
            limit=limit,
        )
    ]
    may_keep_history = shared.has(Category.INTERACTIONS)
    dismissed = frozenset(
        interaction.notice_id
        for interaction in shared.interactions
        if interaction.dismissed_at is not None
    )
    if items:
        return ForYou(
            items=items,
            personalised=True,
            may_keep_history=may_keep_history,
            dismissed=dismissed,
        )
    # Nothing stored: the resident shares nothing for the home page, or the worker has not
    # ranked for them yet. The city's own order, the same for everyone.
    return ForYou(
        items=[],
        personalised=False,
        city_news=list(public_notice_list().defer(*NOTICE_TEXTS)[:FIRST_FOR_YOU]),
        may_keep_history=may_keep_history,
        dismissed=dismissed,
    )


def school_letters(*, resident_id: int, household: policy.ProfileProjection) -> list[SchoolLetter]:
    """The newest letters for the resident's children (their household as read through the
    gate for school letters), each with whether the parent confirmed reading it."""
    confirmed = Acknowledgement.objects.filter(notice=OuterRef("pk"), resident_id=resident_id)
    letters = (
        letters_for_household(household)
        .select_related("school")
        .defer(*NOTICE_TEXTS)
        .annotate(acknowledged=Exists(confirmed))[:LETTERS_ON_CARD]
    )
    return [SchoolLetter(notice=letter, acknowledged=letter.acknowledged) for letter in letters]


def shelter_guidance(shared: policy.ProfileProjection) -> ShelterGuidance | None:
    """Shelters for the resident, from what they agreed to share for disaster warnings."""
    if shared.home_location is not None:
        latitude, longitude = shared.home_location
        return ShelterGuidance(
            nearest=nearest_shelters(
                latitude=latitude, longitude=longitude, resolution_m=HOME_DISTANCE_RESOLUTION_M
            ),
            in_my_areas=[],
        )
    if shared.places:
        area_ids = [place.area_id for place in shared.places]
        return ShelterGuidance(nearest=[], in_my_areas=list(shelters_near_areas(area_ids=area_ids)))
    return None


def live_notice(*, notice_id: int) -> Notice | None:
    """A published notice by id, with its texts (the caller checks the resident may see it: one
    of their list, or one they set aside)."""
    return published_notices().filter(pk=notice_id).first()
