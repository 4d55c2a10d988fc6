"""The site's URLs and a bare signed-in view that runs one query: the baseline the home page is
measured beside, through the same middleware (session, user, CSRF, security headers)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from portal.urls import handler500
from portal.urls import urlpatterns as site_urlpatterns
from recommendations.models import StoredFeed


def bare(request: HttpRequest) -> HttpResponse:
    found = StoredFeed.objects.filter(resident_id=request.user.pk).exists()
    return HttpResponse(f"{found}", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *site_urlpatterns]
__all__ = ["handler500", "urlpatterns"]
