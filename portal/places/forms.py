"""The search on /shelters/: a GET form, so that every result page has an address and works
without JavaScript."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Area, Shelter

# A browser's position is rounded to about 100 m before it reaches the address bar, the server's
# logs or the browser's history: enough to rank shelters, too little to point at a house.
POSITION_DECIMALS = 3


class Near(models.TextChoices):
    ANYWHERE = "", _("no place (by name)")
    HERE = "here", _("where I am now")
    HOME = "home", _("my home or my places, as I shared them")


def _hazard_choices() -> list[tuple[str, str]]:
    """Called for each form, so that the names follow the request's language."""
    names = Shelter.hazard_names()
    return [("", str(_("Any hazard")))] + [(f.removeprefix("for_"), names[f]) for f in names]


class ShelterSearchForm(forms.Form):
    area = forms.CharField(label=_("District"), required=False, max_length=64)
    hazard = forms.ChoiceField(label=_("Hazard"), required=False, choices=_hazard_choices)
    # Set by the "nearest" buttons (static/js/shelter-map.js, or a link) and kept while the
    # district or the hazard changes.
    near = forms.ChoiceField(
        label=_("Nearest to"), required=False, choices=Near.choices, widget=forms.HiddenInput
    )
    lat = forms.FloatField(
        label=_("Latitude"), required=False, min_value=-90, max_value=90, widget=forms.HiddenInput
    )
    lon = forms.FloatField(
        label=_("Longitude"),
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.HiddenInput,
    )

    def clean_area(self) -> str:
        code: str = self.cleaned_data["area"].strip()
        if code and not Area.objects.filter(code=code).exists():
            raise forms.ValidationError(_("There is no district with this code."))
        return code

    def clean_lat(self) -> float | None:
        return _rounded(self.cleaned_data["lat"])

    def clean_lon(self) -> float | None:
        return _rounded(self.cleaned_data["lon"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        has_position = cleaned.get("lat") is not None and cleaned.get("lon") is not None
        if cleaned.get("near") == Near.HERE and not has_position and not self.errors:
            raise forms.ValidationError(
                _(
                    "Your position did not reach us: allow the browser to share it, or choose a "
                    "district."
                )
            )
        given = cleaned.get("lat") is not None or cleaned.get("lon") is not None
        if cleaned.get("near") != Near.HERE and given:
            raise forms.ValidationError(_("A position is only used with “where I am now”."))
        return cleaned


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, POSITION_DECIMALS)
