"""Public notice pages, mounted at /notices/ (namespace "notices")."""

from django.urls import URLPattern, path

from portal.notices.views import public

app_name = "notices"

urlpatterns: list[URLPattern] = [
    path("", public.notice_list, name="list"),
    path("feed.atom", public.NoticeFeed(), name="feed"),
    path("<int:pk>/", public.notice_detail, name="detail"),
    path("<int:pk>/attachments/<int:attachment_id>/", public.attachment, name="attachment"),
]
