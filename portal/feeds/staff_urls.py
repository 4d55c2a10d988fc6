"""The staff pages of the feeds, mounted at /staff/feeds/ (namespace "feeds_staff")."""

from django.urls import path

from portal.feeds.views import staff

app_name = "feeds_staff"

urlpatterns = [
    path("", staff.feed_overview, name="overview"),
    path("sources/<int:source_id>/", staff.source_detail, name="source"),
    path("sources/<int:source_id>/poll/", staff.source_poll_now, name="poll"),
    path("runs/<int:run_id>/", staff.run_detail, name="run"),
]
