"""Forms of the resident's own pages: they parse and validate input, then hand typed values to
portal.residents.services, which checks consent and stores. A refusal by the service becomes a
form error, so a bad field is shown next to itself and nothing is stored.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.catalogue import Category
from portal.models import Area, InterestTag, PlaceKind, PreferredLanguage, School, User
from portal.residents.services import (
    OLDEST_BIRTH_YEAR,
    ProfileError,
    child_add,
    place_add,
    profile_set_birth_year,
    profile_set_home_location,
    profile_set_interests,
    profile_set_language,
)

# Six decimal places of a degree are about 10 cm: more than a home needs, and what is stored.
COORDINATE_STEP = Decimal("0.000001")

type Choices = list[tuple[str, str]]
type GroupedChoices = list[tuple[str, Choices]]


def area_choices() -> GroupedChoices:
    """Every area, grouped municipality → district → neighbourhood for <optgroup>s.

    A municipality's group offers the whole municipality and its districts without
    neighbourhoods; a district with neighbourhoods gets its own group. Areas of neighbouring
    municipalities are listed too: a living sphere crosses borders.
    """
    below: dict[int | None, list[Area]] = defaultdict(list)
    for area in Area.objects.order_by("code"):
        below[area.parent_id].append(area)
    groups: GroupedChoices = []
    for municipality in below[None]:
        own: Choices = [
            (municipality.code, gettext("All of %(name)s") % {"name": municipality.name})
        ]
        nested: GroupedChoices = []
        for district in below[municipality.pk]:
            neighbourhoods = below[district.pk]
            if not neighbourhoods:
                own.append((district.code, district.name))
                continue
            options = [(district.code, gettext("All of %(name)s") % {"name": district.name})]
            options += [
                (neighbourhood.code, neighbourhood.name) for neighbourhood in neighbourhoods
            ]
            nested.append((f"{municipality.name} › {district.name}", options))
        groups += [(municipality.name, own), *nested]
    return groups


def school_choices() -> GroupedChoices:
    """Schools grouped by kind, each labelled with the grades it has."""
    by_kind: dict[str, Choices] = defaultdict(list)
    for school in School.objects.order_by("kind", "code"):
        grades = school.grades
        by_kind[capfirst(school.get_kind_display())].append(
            (
                school.code,
                gettext("%(school)s (grades %(low)s–%(high)s)")
                % {"school": school.name, "low": grades.start, "high": grades.stop - 1},
            )
        )
    return list(by_kind.items())


def interest_choices() -> Choices:
    return [(tag.code, tag.name) for tag in InterestTag.objects.order_by("position", "code")]


class ProfileSectionForm(forms.Form):
    """One section of the profile page: one category, one service call."""

    category: ClassVar[str]
    # The field a refusal by the profile service is shown next to; None: the whole section.
    service_error_field: ClassVar[str | None] = None

    def store(self, *, resident_id: int) -> bool:
        """Validate and store; on failure the reason is a form error and nothing was stored."""
        if not self.is_valid():
            return False
        try:
            self.save(resident_id=resident_id)
        except ProfileError as error:
            self.add_error(self.service_error_field, str(error))
            return False
        return True

    def save(self, *, resident_id: int) -> None:
        raise NotImplementedError


class BirthYearForm(ProfileSectionForm):
    category = Category.AGE
    service_error_field = "birth_year"

    birth_year = forms.IntegerField(
        label=_("Birth year"),
        required=False,
        help_text=_(
            "For example 1985. The purposes you chose see only an age band such as 40–49. "
            "Leave empty to remove it."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Hints for the browser only: the profile service is what enforces the range.
        # autocomplete names the field's purpose, so a browser can fill it in and assistive
        # technology can say what it is (WCAG 1.3.5, identify input purpose).
        self.fields["birth_year"].widget.attrs.update(
            {
                "min": OLDEST_BIRTH_YEAR,
                "max": timezone.localdate().year,
                "inputmode": "numeric",
                "autocomplete": "bday-year",
            }
        )

    def save(self, *, resident_id: int) -> None:
        birth_year: int | None = self.cleaned_data["birth_year"]
        profile_set_birth_year(resident_id=resident_id, birth_year=birth_year)


class LanguageForm(ProfileSectionForm):
    category = Category.LANGUAGE
    service_error_field = "preferred_language"

    preferred_language = forms.ChoiceField(
        label=_("Preferred language"),
        choices=[("", _("No preference")), *PreferredLanguage.choices],
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose Japanese or English.")},
    )
    needs_large_text = forms.BooleanField(label=_("I need large text"), required=False)
    needs_easy_japanese = forms.BooleanField(
        label=_("I need easy Japanese (やさしい日本語)"), required=False
    )

    def save(self, *, resident_id: int) -> None:
        preferred_language: str = self.cleaned_data["preferred_language"]
        large_text: bool = self.cleaned_data["needs_large_text"]
        easy_japanese: bool = self.cleaned_data["needs_easy_japanese"]
        profile_set_language(
            resident_id=resident_id,
            preferred_language=preferred_language,
            large_text=large_text,
            easy_japanese=easy_japanese,
        )


class LocationForm(ProfileSectionForm):
    category = Category.LOCATION

    # max_digits only keeps absurdly long numbers out; the service checks the point is in Japan.
    latitude = forms.DecimalField(
        label=_("Latitude"),
        required=False,
        max_digits=15,
        help_text=_("Degrees north, for example 37.494761."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    longitude = forms.DecimalField(
        label=_("Longitude"),
        required=False,
        max_digits=15,
        help_text=_("Degrees east, for example 139.929808."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def clean_latitude(self) -> Decimal | None:
        return _rounded(self.cleaned_data["latitude"])

    def clean_longitude(self) -> Decimal | None:
        return _rounded(self.cleaned_data["longitude"])

    def save(self, *, resident_id: int) -> None:
        latitude: Decimal | None = self.cleaned_data["latitude"]
        longitude: Decimal | None = self.cleaned_data["longitude"]
        profile_set_home_location(resident_id=resident_id, latitude=latitude, longitude=longitude)


def _rounded(value: Decimal | None) -> Decimal | None:
    # Map apps copy seven or more decimals; accept them rather than make the resident trim.
    return None if value is None else value.quantize(COORDINATE_STEP)


class InterestsForm(ProfileSectionForm):
    category = Category.INTERESTS
    service_error_field = "interests"

    interests = forms.MultipleChoiceField(
        label=_("Your interests"),
        choices=interest_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose interests from the list.")},
    )

    def save(self, *, resident_id: int) -> None:
        codes: list[str] = self.cleaned_data["interests"]
        profile_set_interests(resident_id=resident_id, interest_codes=codes)


class PlaceAddForm(ProfileSectionForm):
    category = Category.PLACES
    service_error_field = "area"

    kind = forms.ChoiceField(
        label=_("Kind of place"),
        choices=[(value, capfirst(label)) for value, label in PlaceKind.choices],
        error_messages={"invalid_choice": _("Choose what kind of place this is.")},
    )
    area = forms.ChoiceField(
        label=_("Area"),
        choices=area_choices,
        help_text=_("Areas of neighbouring municipalities are listed too."),
        error_messages={"invalid_choice": _("Unknown area. Choose an area from the list.")},
    )

    def save(self, *, resident_id: int) -> None:
        kind: str = self.cleaned_data["kind"]
        area_code: str = self.cleaned_data["area"]
        place_add(resident_id=resident_id, kind=kind, area_code=area_code)


class ChildAddForm(ProfileSectionForm):
    category = Category.HOUSEHOLD
    service_error_field = "grade"

    school = forms.ChoiceField(
        label=_("School"),
        choices=school_choices,
        error_messages={"invalid_choice": _("Unknown school. Choose a school from the list.")},
    )
    grade = forms.IntegerField(
        label=_("Grade"),
        min_value=1,
        max_value=9,
        help_text=_("The school year the child is in, from 1."),
    )

    def save(self, *, resident_id: int) -> None:
        school_code: str = self.cleaned_data["school"]
        grade: int = self.cleaned_data["grade"]
        child_add(resident_id=resident_id, school_code=school_code, grade=grade)


class AccountDeleteForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        help_text=_("Type the email address of your account to confirm."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["email"].widget.attrs["autocomplete"] = "off"

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        if email.strip().casefold() != self.user.email.casefold():
            raise forms.ValidationError(
                _("This is not the email address of your account."), code="mismatch"
            )
        return email
