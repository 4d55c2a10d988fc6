from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.snow.models import Vehicle


class VehicleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    operator = forms.CharField(label=_("Operator company"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Vehicle.Kind.choices, initial="plow")

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if Vehicle.objects.filter(name=name).exists():
            raise forms.ValidationError(_("A vehicle of this name is registered already."))
        return name
