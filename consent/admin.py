"""Admin for the consent catalogue. Terms are published through the service (never edited);
the ledger is shown read-only. Resident attributes are deliberately absent from the admin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from consent.catalogue import Category
from consent.models import ConsentEvent, ConsentTerms, DataCategory, Purpose, Recipient
from consent.services import ConsentError, terms_check, terms_publish


@admin.register(DataCategory)
class DataCategoryAdmin(admin.ModelAdmin[DataCategory]):
    list_display = ["code", "name_ja", "name_en", "dpv_term", "position"]
    readonly_fields = ["code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # categories are tied to code (consent.catalogue.Category)

    def has_delete_permission(self, request: HttpRequest, obj: DataCategory | None = None) -> bool:
        return False


@admin.register(Purpose)
class PurposeAdmin(admin.ModelAdmin[Purpose]):
    list_display = ["code", "name_ja", "name_en", "dpv_term", "position"]
    readonly_fields = ["code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Purpose | None = None) -> bool:
        return False


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin[Recipient]):
    list_display = ["code", "name_ja", "name_en", "role", "dpv_term"]

    def has_delete_permission(self, request: HttpRequest, obj: Recipient | None = None) -> bool:
        return False


class TermsPublishForm(forms.ModelForm[ConsentTerms]):
    category_codes = forms.MultipleChoiceField(
        label=_("Data categories"), choices=Category.choices, widget=forms.CheckboxSelectMultiple
    )
    recipient_codes = forms.MultipleChoiceField(
        label=_("Recipients"), choices=[], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ConsentTerms
        fields = [
            "purpose",
            "category_codes",
            "recipient_codes",
            "text_ja",
            "text_en",
            "retention_days",
            "valid_days",
            "withdrawal_method_ja",
            "withdrawal_method_en",
            "requires_reconsent",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipient_codes"].choices = [  # type: ignore[attr-defined]
            (r.code, str(r)) for r in Recipient.objects.all()
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            terms_check(
                purpose_code=cleaned["purpose"].code,
                category_codes=cleaned["category_codes"],
                recipient_codes=cleaned["recipient_codes"],
                text_ja=cleaned["text_ja"],
                text_en=cleaned["text_en"],
                retention_days=cleaned["retention_days"],
                valid_days=cleaned["valid_days"],
                requires_reconsent=cleaned["requires_reconsent"],
            )
        except ConsentError as error:
            raise ValidationError(str(error)) from error
        return cleaned


@admin.register(ConsentTerms)
class ConsentTermsAdmin(admin.ModelAdmin[ConsentTerms]):
    """New versions only: "Add" publishes the next version of a purpose's terms."""

    form = TermsPublishForm
    list_display = ["purpose", "version", "requires_reconsent", "published_at", "content_hash"]
    list_filter = ["purpose"]

    def has_change_permission(self, request: HttpRequest, obj: ConsentTerms | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ConsentTerms | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ConsentTerms, form: Any, change: bool) -> None:
        data = form.cleaned_data
        published = terms_publish(
            purpose_code=data["purpose"].code,
            category_codes=data["category_codes"],
            recipient_codes=data["recipient_codes"],
            text_ja=data["text_ja"],
            text_en=data["text_en"],
            retention_days=data["retention_days"],
            valid_days=data["valid_days"],
            withdrawal_method_ja=data["withdrawal_method_ja"],
            withdrawal_method_en=data["withdrawal_method_en"],
            requires_reconsent=data["requires_reconsent"],
        )
        obj.pk = published.pk


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin[ConsentEvent]):
    """The ledger, read-only. It holds pseudonyms, never names or addresses."""

    list_display = ["id", "kind", "purpose_code", "channel", "actor_kind", "occurred_at"]
    list_filter = ["kind", "purpose_code", "channel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ConsentEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ConsentEvent | None = None) -> bool:
        return False
