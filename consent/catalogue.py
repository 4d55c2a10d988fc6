"""The codes of the consent catalogue, shared by code and data.

The catalogue rows (texts in Japanese and English, DPV terms) live in the database and are
created by a data migration; these enums are the stable codes the code relies on.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """A group of resident attributes that is consented to as one."""

    AGE = "age", _("Age band")
    PLACES = "places", _("Places")
    HOUSEHOLD = "household", _("Household")
    INTERESTS = "interests", _("Interests")
    LANGUAGE = "language", _("Language and accessibility")
    LOCATION = "location", _("Precise home location")
    INTERACTIONS = "interactions", _("Interaction history")


class PurposeCode(models.TextChoices):
    PERSONALISED_HOME = "personalised_home", _("Personalised home page")
    DISASTER_WARNINGS = "disaster_warnings", _("Disaster warnings for my areas")
    SCHOOL_LETTERS = "school_letters", _("School letters for my children")
    PLANNING_STATISTICS = "planning_statistics", _("Anonymous statistics for city planning")


class RecipientCode(models.TextChoices):
    CITY = "city", _("The city")
    OPERATOR = "operator", _("The portal operator")
    BOARD_OF_EDUCATION = "board_of_education", _("The board of education")


# Reads of a resident's own data by that resident (the "my data" page, the export). Not a
# purpose one consents to: the data subject may always see what is stored about them.
SUBJECT_ACCESS = "subject_access"


# One bit per category, in the order above. The data-use log stores these bits (the union of a
# day's reads is an OR), so a category keeps its bit for ever: add new categories at the end.
CATEGORY_BITS: dict[str, int] = {
    code: 1 << position for position, code in enumerate(Category.values)
}


def category_mask(codes: Iterable[str]) -> int:
    """The bits of these categories, OR-ed together."""
    mask = 0
    for code in codes:
        mask |= CATEGORY_BITS[code]
    return mask


def categories_in(mask: int) -> frozenset[str]:
    """The categories whose bits are set in ``mask``."""
    return frozenset(code for code, bit in CATEGORY_BITS.items() if mask & bit)
