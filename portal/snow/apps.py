from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SnowConfig(AppConfig):
    """Snow clearing: plow vehicles, their tokens, the positions API."""

    name = "portal.snow"
    label = "snow"
    verbose_name = _("Snow clearing")
    default_auto_field = "django.db.models.BigAutoField"
