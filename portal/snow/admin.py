from django.contrib import admin

from portal.snow.models import Vehicle, VehicleToken


class VehicleTokenInline(admin.TabularInline[VehicleToken, Vehicle]):
    """Tokens are issued by ``manage.py plow_vehicle_add`` (shown once); here they are revoked."""

    model = VehicleToken
    extra = 0
    fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    can_delete = False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin[Vehicle]):
    list_display = ["name", "operator", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "operator"]
    inlines = [VehicleTokenInline]
