"""The site plus its error pages at addresses of their own, for the accessibility sweep.

Django renders 400.html, 403.html, 404.html and 500.html through these default views, as it
does when a request fails; portal/urls.py mounts two of them only with DEBUG.
"""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.urls import include, path
from django.views import defaults

urlpatterns = [
    path("errors/400/", defaults.bad_request, {"exception": SuspiciousOperation()}),
    path("errors/403/", defaults.permission_denied, {"exception": PermissionDenied()}),
    path("errors/404/", defaults.page_not_found, {"exception": Http404()}),
    path("errors/500/", defaults.server_error),
    path("", include("portal.urls")),
]
