from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Machi+ portal")

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_added
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import m2m_changed, post_migrate, pre_save

        from consent.signals import categories_uncovered
        from portal.about import checks  # noqa: F401  (registers the deployment check)
        from portal.infra.sites import sync_site
        from portal.models import User
        from portal.residents.interests import ensure_interest_tags
        from portal.residents.services import erase_on_uncovered
        from portal.staff import sessions
        from portal.staff.roles import sync_role_groups

        post_migrate.connect(sync_role_groups, sender=self)
        post_migrate.connect(ensure_interest_tags, sender=self)
        post_migrate.connect(sync_site, sender=self)
        categories_uncovered.connect(erase_on_uncovered, dispatch_uid="portal.erase_on_uncovered")
        # A session opened before the account gained a second factor or a staff power does not
        # inherit them: the account's other sessions end (portal.staff.sessions).
        authenticator_added.connect(
            sessions.end_sessions_on_authenticator_added, dispatch_uid="portal.sessions.mfa"
        )
        pre_save.connect(
            sessions.end_sessions_on_staff_flag_raised,
            sender=User,
            dispatch_uid="portal.sessions.staff_flag",
        )
        # A staff login lasts STAFF_SESSION_AGE, not two weeks (portal.staff.sessions).
        user_logged_in.connect(
            sessions.limit_staff_session_on_login, dispatch_uid="portal.sessions.staff_age"
        )
        for through in (User.groups.through, User.user_permissions.through):
            m2m_changed.connect(
                sessions.end_sessions_on_role_granted,
                sender=through,
                dispatch_uid=f"portal.sessions.{through.__name__}",
            )
