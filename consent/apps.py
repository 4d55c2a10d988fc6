from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from consent import checks  # noqa: F401  (registers the deployment checks)
        from consent.seed import ensure_catalogue

        post_migrate.connect(ensure_catalogue, sender=self)
