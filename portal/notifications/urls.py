"""The resident's notification pages, mounted at /notifications/ (namespace "notifications")."""

from django.urls import path

from portal.notifications.views import resident

app_name = "notifications"

urlpatterns = [
    path("", resident.preferences, name="preferences"),
    path("webhook/", resident.webhook, name="webhook"),
    path("webhook/secret/", resident.webhook_secret, name="webhook_secret"),
    path("webhook/remove/", resident.webhook_delete, name="webhook_remove"),
    path("push/", resident.push_subscription, name="push_subscribe"),
    path("push/remove/", resident.push_delete, name="push_remove"),
    path("unsubscribe/<str:token>/", resident.unsubscribe, name="unsubscribe"),
]
