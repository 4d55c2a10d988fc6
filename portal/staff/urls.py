from django.urls import path

from portal.staff import views

app_name = "staff"

urlpatterns = [
    path("", views.console, name="console"),
]
