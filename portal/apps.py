from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Machi+ portal")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from consent.signals import categories_uncovered
        from portal.infra.sites import sync_site
        from portal.residents.interests import ensure_interest_tags
        from portal.residents.services import erase_on_uncovered
        from portal.staff.roles import sync_role_groups

        post_migrate.connect(sync_role_groups, sender=self)
        post_migrate.connect(ensure_interest_tags, sender=self)
        post_migrate.connect(sync_site, sender=self)
        categories_uncovered.connect(erase_on_uncovered, dispatch_uid="portal.erase_on_uncovered")
