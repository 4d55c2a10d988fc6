from django.contrib import admin

from portal.feeds.models import AreaCode, Run, Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin[Source]):
    list_display = ["name", "kind", "url", "interval", "enabled", "consecutive_failures"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "url"]
    filter_horizontal = ["areas"]
    readonly_fields = ["last_success_at", "consecutive_failures", "last_error", "next_poll_at"]


@admin.register(AreaCode)
class AreaCodeAdmin(admin.ModelAdmin[AreaCode]):
    list_display = ["scheme", "code", "name"]
    list_filter = ["scheme"]
    search_fields = ["code", "name"]
    filter_horizontal = ["areas"]


@admin.register(Run)
class RunAdmin(admin.ModelAdmin[Run]):
    """Runs are the connectors' record: read here, never edited."""

    list_display = ["started_at", "location", "origin", "status", "created", "rejected"]
    list_filter = ["status", "origin", "kind"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
