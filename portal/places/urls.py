from django.urls import path

from portal.places import views

urlpatterns = [
    path("shelters/", views.shelters, name="shelters"),
    path("shelters/map.json", views.shelter_map, name="shelter_map"),
]
