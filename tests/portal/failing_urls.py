from django.db import OperationalError, ProgrammingError
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from portal import urls as portal_urls


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internals must not leak")


def database_gone(request: HttpRequest) -> HttpResponse:
    raise OperationalError("server closed the connection unexpectedly")


def bad_query(request: HttpRequest) -> HttpResponse:
    raise ProgrammingError('column "nope" does not exist')


# The site's own error handler, as ROOT_URLCONF declares it.
handler500 = portal_urls.handler500

urlpatterns = [
    path("boom/", boom),
    path("database-gone/", database_gone),
    path("bad-query/", bad_query),
    path("", include("portal.urls")),
]
