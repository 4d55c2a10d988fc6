from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internals must not leak")


urlpatterns = [path("boom/", boom), path("", include("portal.urls"))]
