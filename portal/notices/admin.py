"""Administrators manage departments and school staff memberships here (behind the staff gate)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from portal.models import User
from portal.notices.models import Department, SchoolStaffMembership


def staff_accounts() -> QuerySet[User]:
    """Only staff can be members: the choice never lists residents' accounts."""
    return User.objects.filter(Q(is_staff=True) | Q(groups__isnull=False)).distinct()


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    list_display = ["code", "name_ja", "name_en"]
    search_fields = ["code", "name_ja", "name_en"]
    filter_horizontal = ["members"]

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField[Any] | None:
        if db_field.name == "members":
            kwargs["queryset"] = staff_accounts()
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(SchoolStaffMembership)
class SchoolStaffMembershipAdmin(admin.ModelAdmin[SchoolStaffMembership]):
    list_display = ["user", "school"]
    list_select_related = ["user", "school"]

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        if db_field.name == "user":
            kwargs["queryset"] = staff_accounts()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
