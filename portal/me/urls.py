from django.urls import path

from portal.me import views as me_views

app_name = "me"

urlpatterns = [
    path("", me_views.my_data, name="data"),
    path("data.json", me_views.export, name="export"),
    path("profile/", me_views.profile, name="profile"),
    path("profile/<slug:section>/", me_views.profile_section, name="profile_section"),
    path("places/", me_views.add_place, name="place_add"),
    path("places/<int:place_id>/remove/", me_views.remove_place, name="place_remove"),
    path("children/", me_views.add_child, name="child_add"),
    path("children/<int:child_id>/remove/", me_views.remove_child, name="child_remove"),
    path("delete/", me_views.delete_account, name="delete"),
]
