"""Forms of the consent pages. They only parse and validate: the services record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.forms.boundfield import BoundField, BoundWidget
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentTerms, CounterAction, DataCategory
from consent.references import format_reference, parse_reference


class SetupAction:
    SAVE = "save"
    SKIP = "skip"


class SetupStepForm(forms.Form):
    """One step of the opt-in: which purposes may use this category. Nothing is pre-ticked.

    ``terms`` carries the versions the resident read, so a version published while they
    were reading is not agreed to unseen.
    """

    purposes = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("“%(value)s” is not one of the purposes offered in this step.")
        },
    )
    terms = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.MultipleHiddenInput,
        error_messages={
            "invalid_choice": _("These terms have changed: please read the new version.")
        },
    )

    def __init__(self, *args: Any, offered: Sequence[ConsentTerms], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered = list(offered)
        purposes = self.fields["purposes"]
        assert isinstance(purposes, forms.MultipleChoiceField)
        purposes.choices = [(t.purpose.code, t.purpose.name) for t in self.offered]
        terms = self.fields["terms"]
        assert isinstance(terms, forms.TypedMultipleChoiceField)
        terms.choices = [(t.pk, str(t.pk)) for t in self.offered]
        self.initial.setdefault("terms", [t.pk for t in self.offered])

    def clean_terms(self) -> list[int]:
        shown: list[int] = self.cleaned_data["terms"]
        if set(shown) != {t.pk for t in self.offered}:
            raise forms.ValidationError(
                _("These terms have changed: please read the new version."), code="stale"
            )
        return shown

    def ticked(self) -> list[ConsentTerms]:
        chosen = set(self.cleaned_data["purposes"])
        return [t for t in self.offered if t.purpose.code in chosen]

    def unticked(self) -> list[ConsentTerms]:
        chosen = set(self.cleaned_data["purposes"])
        return [t for t in self.offered if t.purpose.code not in chosen]


class PurposeChoiceForm(forms.Form):
    """Which categories one purpose may use, under its current terms."""

    categories = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("“%(value)s” is not a data category these terms cover.")
        },
    )
    terms = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        terms: ConsentTerms,
        categories: Sequence[DataCategory],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.current_terms = terms
        field = self.fields["categories"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(c.code, c.name) for c in categories]
        self.initial.setdefault("terms", terms.pk)

    def clean_terms(self) -> int:
        terms_id: int = self.cleaned_data["terms"]
        if terms_id != self.current_terms.pk:
            raise forms.ValidationError(
                _(
                    "These terms were replaced while you were reading them: "
                    "please read the new version and choose again."
                ),
                code="stale",
            )
        return terms_id


@dataclass(frozen=True)
class CounterSection:
    """One purpose on the counter form: its radio button and its categories."""

    terms: ConsentTerms
    radio: BoundWidget
    categories: BoundField


class CounterConsentForm(forms.Form):
    """A resident's paper consent form, as typed in by a member of staff at the counter."""

    email = forms.EmailField(
        label=_("Resident's email address"),
        help_text=_(
            "As written on the paper form. It must be the verified address of a resident's "
            "Machi+ account; the page does not say whether it is."
        ),
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"),
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the purposes listed.")},
    )
    action = forms.ChoiceField(
        label=_("What the resident asks for"),
        widget=forms.RadioSelect,
        choices=[
            (CounterAction.GRANT, _("Give consent for the ticked categories")),
            (CounterAction.WITHDRAW, _("Withdraw consent for the ticked categories")),
        ],
    )
    paper_form_reference = forms.CharField(
        label=_("Paper form reference"),
        max_length=64,
        help_text=_("As printed at the top of the signed form. It can be used only once."),
        error_messages={"required": _("Enter the paper form's reference.")},
    )
    terms_version = forms.IntegerField(
        label=_("Terms version on the paper form"),
        min_value=1,
        help_text=_("The version printed on the signed form: it must be the current one."),
        error_messages={"required": _("Enter the terms version printed on the paper form.")},
    )

    def __init__(self, *args: Any, terms: Sequence[ConsentTerms], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.terms = {t.purpose.code: t for t in terms}
        purpose = self.fields["purpose"]
        assert isinstance(purpose, forms.ChoiceField)
        purpose.choices = [(t.purpose.code, t.purpose.name) for t in terms]
        categories = {c.code: c for c in DataCategory.objects.all()}
        for t in terms:
            self.fields[self.categories_field(t.purpose.code)] = forms.MultipleChoiceField(
                label=_("Categories for “%(purpose)s”") % {"purpose": t.purpose.name},
                required=False,
                widget=forms.CheckboxSelectMultiple,
                choices=[
                    (code, categories[code].name)
                    for code in sorted(t.category_codes, key=lambda c: categories[c].position)
                ],
                error_messages={
                    "invalid_choice": _("“%(value)s” is not a data category these terms cover.")
                },
            )

    @staticmethod
    def categories_field(purpose_code: str) -> str:
        return f"categories_{purpose_code}"

    def sections(self) -> list[CounterSection]:
        radios = {radio.data["value"]: radio for radio in self["purpose"]}
        return [
            CounterSection(
                terms=t, radio=radios[code], categories=self[self.categories_field(code)]
            )
            for code, t in self.terms.items()
        ]

    def clean_paper_form_reference(self) -> str:
        typed: str = self.cleaned_data["paper_form_reference"]
        reference = parse_reference(typed, prefix=settings.PAPER_FORM_PREFIX)
        if reference is None:
            raise forms.ValidationError(
                _(
                    "This is not a reference of the register: check the letters, the six digits "
                    "and the last digit against the printed form (e.g. %(example)s)."
                )
                % {"example": format_reference(settings.PAPER_FORM_PREFIX, 42)},
                code="shape",
            )
        return reference

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        chosen = cleaned.get("purpose")
        version = cleaned.get("terms_version")
        if chosen in self.terms and version and version != self.terms[chosen].version:
            # A grant records agreement to exactly the terms the resident signed.
            self.add_error(
                "terms_version",
                _(
                    "The resident signed version %(signed)s, but the current terms are version "
                    "%(current)s: ask the resident to read and sign the current form."
                )
                % {"signed": version, "current": self.terms[chosen].version},
            )
        for code in self.terms:
            name = self.categories_field(code)
            ticked = cleaned.get(name) or []
            if code == chosen and not ticked:
                self.add_error(name, _("Tick at least one category for the chosen purpose."))
            elif chosen and code != chosen and ticked:
                self.add_error(
                    name,
                    _("These categories are not under the chosen purpose: untick them."),
                )
        return cleaned

    def chosen_terms(self) -> ConsentTerms:
        return self.terms[self.cleaned_data["purpose"]]

    def chosen_categories(self) -> list[str]:
        codes: list[str] = self.cleaned_data[self.categories_field(self.cleaned_data["purpose"])]
        return codes


class PaperFormBatchForm(forms.Form):
    """A consent officer issuing the next batch of paper-form references to a counter."""

    size = forms.IntegerField(
        label=_("Number of forms"),
        min_value=1,
        max_value=settings.PAPER_FORM_BATCH_MAX,
        initial=100,
    )
    issued_to = forms.CharField(
        label=_("Issued to"),
        max_length=200,
        help_text=_("The counter or office that receives the printed forms."),
    )


class PaperFormVoidForm(forms.Form):
    """Taking a lost or spoiled blank form out of use."""

    reference = forms.CharField(label=_("Reference"), max_length=32)
    reason = forms.CharField(label=_("Why it is voided"), max_length=200)


class DisputeResolutionForm(forms.Form):
    dispute = forms.IntegerField(widget=forms.HiddenInput)
    resolution = forms.CharField(
        label=_("How it was resolved"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class CounterDisputeForm(forms.Form):
    """A resident disputing a paper form recorded in their name."""

    reason = forms.CharField(
        label=_("What is wrong with this record?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "For example: you did not sign this form, or you ticked other categories. A consent "
            "officer of the city will look at it and answer you by email."
        ),
        error_messages={"required": _("Tell us what is wrong with this record.")},
    )
