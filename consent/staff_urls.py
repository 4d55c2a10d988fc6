from django.urls import path

from consent import views

app_name = "consent_staff"

urlpatterns = [
    path("counter/", views.counter, name="counter"),
]
