"""Administrators manage departments and school staff memberships here (behind the staff gate)."""

from __future__ import annotations

from django.contrib import admin

from portal.notices.models import Department, SchoolStaffMembership


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    list_display = ["code", "name_ja", "name_en"]
    search_fields = ["code", "name_ja", "name_en"]
    filter_horizontal = ["members"]


@admin.register(SchoolStaffMembership)
class SchoolStaffMembershipAdmin(admin.ModelAdmin[SchoolStaffMembership]):
    list_display = ["user", "school"]
    autocomplete_fields = ["school"]
    raw_id_fields = ["user"]
