"""The public snow pages, mounted at /snow/ (namespace "snow")."""

from django.urls import path

from portal.snow.views import public

app_name = "snow"

urlpatterns = [
    path("", public.snow_status, name="status"),
    path("map.json", public.map_data, name="map_data"),
]
