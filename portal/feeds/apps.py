from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedsConfig(AppConfig):
    """Connectors: JMA 防災情報XML, CAP and RSS/Atom documents become notices."""

    name = "portal.feeds"
    label = "feeds"
    verbose_name = _("Feeds")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.feeds import checks  # noqa: F401 - registers the checks
