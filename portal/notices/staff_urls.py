"""The staff console's notice pages, mounted at /staff/notices/ (namespace "notices_staff").

Every view is wrapped in the staff gate (portal.staff.gate.staff_view) with its permission.
"""

from django.urls import URLPattern

app_name = "notices_staff"

urlpatterns: list[URLPattern] = []
