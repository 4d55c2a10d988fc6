from django.urls import URLPattern, path

from consent import views as consent_views
from portal.staff import views
from portal.staff.gate import staff_view

app_name = "staff"

urlpatterns = [
    path("", views.console, name="console"),
]

# consent sits below portal and cannot import the gate, so its staff pages are put behind the
# gate here, where portal mounts them (portal/urls.py, namespace "consent_staff").
consent_urlpatterns: list[URLPattern] = [
    path(
        "counter/",
        staff_view(permission="consent.record_counter_consent")(consent_views.counter),
        name="counter",
    ),
    path(
        "register/",
        staff_view(permission="consent.manage_paper_forms")(consent_views.register),
        name="register",
    ),
    path(
        "register/batches/<int:number>/",
        staff_view(permission="consent.manage_paper_forms")(consent_views.register_batch),
        name="register_batch",
    ),
]
