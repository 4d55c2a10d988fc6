"""Public notice pages, mounted at /notices/ (namespace "notices")."""

from django.urls import URLPattern

app_name = "notices"

urlpatterns: list[URLPattern] = []
