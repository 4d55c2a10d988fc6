from django.urls import path

from portal.about import views

app_name = "about"

urlpatterns = [
    path("terms/", views.terms, name="terms"),
    path("contact/", views.contact, name="contact"),
]
