"""The resident's notification pages, mounted at /notifications/ (namespace "notifications")."""

from django.urls import path

from portal.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.preferences, name="preferences"),
    path("webhook/", views.webhook, name="webhook"),
    path("webhook/secret/", views.webhook_secret, name="webhook_secret"),
    path("webhook/remove/", views.webhook_delete, name="webhook_remove"),
    path("push/", views.push_subscription, name="push_subscribe"),
    path("push/remove/", views.push_delete, name="push_remove"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
