from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from portal.models import Area, InterestTag, School, Shelter, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active", "date_joined"]
    search_fields = ["email"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin[Area]):
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
class SchoolAdmin(admin.ModelAdmin[School]):
    list_display = ["code", "name_ja", "kind", "area"]
    list_filter = ["kind"]
    search_fields = ["code", "name_ja"]
    raw_id_fields = ["area"]


@admin.register(InterestTag)
class InterestTagAdmin(admin.ModelAdmin[InterestTag]):
    """The curated interest list residents choose from (not residents' choices: those are
    consented data and never shown here)."""

    list_display = ["code", "name_ja", "name_en", "position"]
    list_editable = ["position"]
