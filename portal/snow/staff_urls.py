"""The staff pages of the snow service, mounted at /staff/snow/ (namespace "snow_staff")."""

from django.urls import path

from portal.snow.views import staff

app_name = "snow_staff"

urlpatterns = [
    path("vehicles/", staff.vehicle_list, name="vehicles"),
    path("operations/", staff.operations_switch, name="operations"),
    path("vehicles/<int:vehicle_id>/", staff.vehicle_detail, name="vehicle"),
    path("vehicles/<int:vehicle_id>/tokens/", staff.token_issue, name="token_issue"),
    path("tokens/<int:token_id>/revoke/", staff.token_revoke, name="token_revoke"),
]
