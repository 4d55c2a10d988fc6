from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Machi+ portal")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from portal.roles import sync_role_groups

        post_migrate.connect(sync_role_groups, sender=self)
