from django.urls import URLPattern, path

from portal.home import views

# The resident's own list ("for_you" namespace): each view opens only what is on the
# signed-in resident's own list (tests/security/test_idor_sweep.py).
app_name = "for_you"
urlpatterns: list[URLPattern] = [
    path("", views.for_you, name="list"),
    path("<int:pk>/", views.for_you_notice, name="notice"),
    path("<int:pk>/<slug:action>/", views.for_you_action, name="action"),
]
