"""A parent's school letters, mounted at /letters/ (namespace "letters")."""

from django.urls import path

from portal.notices.views import letters

app_name = "letters"

urlpatterns = [
    path("", letters.my_letters, name="list"),
    path("<int:pk>/", letters.letter, name="letter"),
    path("<int:pk>/acknowledge/", letters.acknowledge, name="acknowledge"),
    path("<int:pk>/attachments/<int:attachment_id>/", letters.attachment, name="attachment"),
]
