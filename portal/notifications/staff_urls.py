"""The staff page of a notice's deliveries, mounted at /staff/notices/ beside the notices' own
pages (namespace "notifications_staff")."""

from django.urls import path

from portal.notifications.views import staff

app_name = "notifications_staff"

urlpatterns = [
    path("<int:notice_id>/deliveries/", staff.deliveries, name="deliveries"),
]
