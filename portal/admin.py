from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from consent.services import Actor
from portal.models import Area, InterestTag, School, Shelter, StaffAuditEntry, User
from portal.residents.services import account_delete


class NoDeleteMixin:
    """Catalogue rows that residents' consented data points at are retired, never deleted:
    the delete page would list (and count) residents' places, children or interests."""

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _staff_member(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # the admin only serves logged-in staff
    return request.user


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active", "date_joined"]
    search_fields = ["email"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        # Through the same service as "delete my account": the ledger records the withdrawals.
        account_delete(user=obj, actor=Actor.staff(_staff_member(request)))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            account_delete(user=user, actor=Actor.staff(_staff_member(request)))


@admin.register(Area)
class AreaAdmin(NoDeleteMixin, admin.ModelAdmin[Area]):
    list_display = ["code", "name_ja", "name_en", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["code", "name_ja", "name_en", "name_kana"]
    raw_id_fields = ["parent"]


@admin.register(Shelter)
class ShelterAdmin(admin.ModelAdmin[Shelter]):
    list_display = ["name_ja", "kind", "area", "address"]
    list_filter = ["kind", "for_flood", "for_landslide", "for_earthquake"]
    search_fields = ["name_ja", "address"]
    raw_id_fields = ["area"]


@admin.register(School)
class SchoolAdmin(NoDeleteMixin, admin.ModelAdmin[School]):
    list_display = ["code", "name_ja", "kind", "area"]
    list_filter = ["kind"]
    search_fields = ["code", "name_ja"]
    raw_id_fields = ["area"]


@admin.register(InterestTag)
class InterestTagAdmin(NoDeleteMixin, admin.ModelAdmin[InterestTag]):
    """The curated interest list residents choose from (not residents' choices: those are
    consented data and never shown here)."""

    list_display = ["code", "name_ja", "name_en", "position"]
    list_editable = ["position"]


@admin.register(StaffAuditEntry)
class StaffAuditEntryAdmin(admin.ModelAdmin[StaffAuditEntry]):
    """Read-only: the log is written by the actions it records, never by hand."""

    list_display = ["occurred_at", "actor_email", "action", "reference", "subject_pseudonym"]
    list_filter = ["action"]
    search_fields = ["actor_email", "reference", "subject_pseudonym"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
