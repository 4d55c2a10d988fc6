"""The JSON API, mounted at /api/v1/ (namespace "api")."""

from django.urls import path

from portal.snow.views import api

app_name = "api"

urlpatterns = [
    path("plow/positions", api.positions, name="plow_positions"),
    path("openapi.json", api.openapi, name="openapi"),
]
