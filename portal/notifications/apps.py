from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Notifications: residents' preferences and channels, the delivery outbox, the senders."""

    name = "portal.notifications"
    label = "notifications"
    verbose_name = _("Notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from consent.signals import consent_narrowed
        from portal.notices.signals import notice_changed
        from portal.notifications import checks, receivers  # noqa: F401 - registers the checks

        notice_changed.connect(
            receivers.fan_out_on_notice_change,
            dispatch_uid="notifications.fan_out_on_notice_change",
        )
        consent_narrowed.connect(
            receivers.suppress_on_narrowed_consent,
            dispatch_uid="notifications.suppress_on_narrowed_consent",
        )
