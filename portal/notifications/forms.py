"""Forms of the notification pages: they parse input and hand typed values to the services,
whose refusals become form errors (nothing is saved)."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal.notices.models import Category as NoticeCategory
from portal.notifications.models import Channel, Digest, NotificationPreference
from portal.notifications.services import Preferences, preferences_update

CHANNEL_SLOTS = ("first_channel", "second_channel", "third_channel")


def _time_choices() -> list[tuple[str, Any]]:
    """Every half hour: a list works the same in every browser and by keyboard alone."""
    return [("", _("(none)"))] + [
        (f"{minutes // 60:02d}:{minutes % 60:02d}",) * 2 for minutes in range(0, 24 * 60, 30)
    ]


def _time_of(value: str) -> time:
    return time.fromisoformat(value)


def _channel_choices() -> list[tuple[str, Any]]:
    """The channels the site can send on: push only once the city has set it up."""
    offered = [
        (code, label)
        for code, label in Channel.choices
        if code != Channel.PUSH or push_is_offered()
    ]
    return [("", _("(none)")), *offered]


def push_is_offered() -> bool:
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


class PreferencesForm(forms.Form):
    warnings = forms.BooleanField(
        label=_("Send me warnings and emergencies for my areas at once, also in quiet hours"),
        required=False,
    )
    drills = forms.BooleanField(
        label=_("Also send me exercises and tests (drills)"), required=False
    )
    first_channel = forms.ChoiceField(label=_("First channel"), required=False)
    second_channel = forms.ChoiceField(
        label=_("If that fails, next"),
        required=False,
    )
    third_channel = forms.ChoiceField(label=_("If that fails too, last"), required=False)
    digest = forms.ChoiceField(
        label=_("Digest of other notices recommended for you"),
        choices=Digest.choices,
        widget=forms.RadioSelect,
        initial=Digest.OFF,
    )
    digest_categories = forms.MultipleChoiceField(
        label=_("Categories in the digest"),
        help_text=_("None ticked: every category."),
        choices=NoticeCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    quiet_from = forms.TypedChoiceField(
        label=_("Quiet hours from"),
        choices=_time_choices,
        coerce=_time_of,
        empty_value=None,
        required=False,
    )
    quiet_until = forms.TypedChoiceField(
        label=_("Quiet hours until"),
        help_text=_("Digests and drills wait until quiet hours end. Warnings never wait."),
        choices=_time_choices,
        coerce=_time_of,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for slot in CHANNEL_SLOTS:
            field = self.fields[slot]
            assert isinstance(field, forms.ChoiceField)
            field.choices = _channel_choices()

    @classmethod
    def of(cls, preference: NotificationPreference) -> PreferencesForm:
        channels = list(preference.channels) + [""] * len(CHANNEL_SLOTS)
        return cls(
            initial={
                "warnings": preference.warnings,
                "drills": preference.drills,
                **dict(zip(CHANNEL_SLOTS, channels, strict=False)),
                "digest": preference.digest,
                "digest_categories": preference.digest_categories,
                "quiet_from": _hh_mm(preference.quiet_from),
                "quiet_until": _hh_mm(preference.quiet_until),
            }
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen = [cleaned.get(slot) for slot in CHANNEL_SLOTS if cleaned.get(slot)]
        if len(chosen) != len(set(chosen)):
            self.add_error("second_channel", _("Choose each channel once."))
        return cleaned

    def store(self, *, resident_id: int) -> bool:
        """Save, or put the service's refusal on the form; True when saved."""
        if not self.is_valid():
            return False
        data = self.cleaned_data
        try:
            preferences_update(
                resident_id=resident_id,
                preferences=Preferences(
                    channels=[data[slot] for slot in CHANNEL_SLOTS if data.get(slot)],
                    warnings=data["warnings"],
                    drills=data["drills"],
                    digest=data["digest"],
                    digest_categories=data["digest_categories"],
                    quiet_from=data["quiet_from"],
                    quiet_until=data["quiet_until"],
                ),
            )
        except ValidationError as refusal:
            for name, errors in refusal.message_dict.items():
                field = "first_channel" if name == "channels" else name
                for error in errors:
                    self.add_error(field if field in self.fields else None, error)
            return False
        return True


def _hh_mm(moment: time | None) -> str:
    return moment.strftime("%H:%M") if moment is not None else ""


class WebhookForm(forms.Form):
    url = forms.CharField(
        label=_("Gateway address (https)"),
        max_length=500,
        help_text=_(
            "The address your messaging gateway gave you, for example the city's LINE bridge."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off"}),
    )
