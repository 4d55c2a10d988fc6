from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import admin
from django.contrib.sites.models import Site
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from portal.home import views as home_views
from portal.infra import views as infra_views
from portal.staff.urls import consent_urlpatterns as consent_staff_urlpatterns

# allauth's authenticator admin shows TOTP seeds and recovery-code secrets in clear text. It
# registers after portal's admin module runs, so it is taken out here, once all are loaded.
if admin.site.is_registered(Authenticator):
    admin.site.unregister(Authenticator)
# The Site row follows SITE_NAME and SITE_URL after every migrate (portal/infra/sites.py): an
# edit in the admin would silently be undone.
if admin.site.is_registered(Site):
    admin.site.unregister(Site)
admin.site.site_header = _("Machi+ administration")
admin.site.site_title = _("Machi+")

urlpatterns = [
    path("", home_views.home, name="home"),
    path("", include("portal.places.urls")),
    path("preferences/text-size/", infra_views.toggle_text_size, name="toggle_text_size"),
    path("staff/", include("portal.staff.urls")),
    path("staff/consent/", include((consent_staff_urlpatterns, "consent_staff"))),
    path("consent/", include("consent.urls")),
    path("me/", include("portal.me.urls")),
    path("healthz", infra_views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.views import defaults

    urlpatterns += [
        path("__errors__/404", defaults.page_not_found, {"exception": Exception()}),
        path("__errors__/500", defaults.server_error),
    ]
