from allauth.account import views as account_views
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes import views as recovery_code_views
from allauth.mfa.totp import views as totp_views
from django.conf import settings
from django.contrib import admin
from django.contrib.sites.models import Site
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from portal.home import views as home_views
from portal.infra import views as infra_views
from portal.notifications.views import resident as notification_views
from portal.staff.gate import (
    mailbox_proof_for_a_first_staff_authenticator,
    recent_mfa_required,
    staff_address_locked,
)
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

# A database outage answers 503 with a styled page (portal/infra/views.py).
handler500 = "portal.infra.views.server_error"

urlpatterns = [
    path("", home_views.home, name="home"),
    path("home/urgent/", home_views.urgent, name="home_urgent"),
    path("for-you/", include("portal.home.urls")),
    path("", include("portal.places.urls")),
    path("", include("portal.about.urls")),
    path("preferences/text-size/", infra_views.toggle_text_size, name="toggle_text_size"),
    path("staff/notices/", include("portal.notices.staff_urls")),
    path("staff/notices/", include("portal.notifications.staff_urls")),
    path("staff/feeds/", include("portal.feeds.staff_urls")),
    path("staff/snow/", include("portal.snow.staff_urls")),
    path("api/v1/", include("portal.snow.api_urls")),
    path("snow/", include("portal.snow.urls")),
    path("staff/", include("portal.staff.urls")),
    path("notices/", include("portal.notices.urls")),
    path("letters/", include("portal.notices.letter_urls")),
    path("staff/consent/", include((consent_staff_urlpatterns, "consent_staff"))),
    path("consent/", include("consent.urls")),
    path("me/", include("portal.me.urls")),
    path("notifications/", include("portal.notifications.urls")),
    path("healthz", infra_views.healthz, name="healthz"),
    # At the root, so that the service worker may show notifications for every page.
    path("service-worker.js", notification_views.service_worker, name="service_worker"),
    # allauth's recovery-code pages ask only for a recent password; here they need a recent
    # second factor (matched before allauth's own patterns, which they shadow).
    path(
        "accounts/2fa/recovery-codes/",
        recent_mfa_required(recovery_code_views.view_recovery_codes),
        name="mfa_view_recovery_codes",
    ),
    path(
        "accounts/2fa/recovery-codes/generate/",
        recent_mfa_required(recovery_code_views.generate_recovery_codes),
        name="mfa_generate_recovery_codes",
    ),
    path(
        "accounts/2fa/recovery-codes/download/",
        recent_mfa_required(recovery_code_views.download_recovery_codes),
        name="mfa_download_recovery_codes",
    ),
    # A staff account's first authenticator needs a code from its mailbox, and staff cannot
    # change that mailbox themselves (portal/staff/gate.py).
    path(
        "accounts/2fa/totp/activate/",
        mailbox_proof_for_a_first_staff_authenticator(totp_views.activate_totp),
        name="mfa_activate_totp",
    ),
    path("accounts/email/", staff_address_locked(account_views.email), name="account_email"),
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
