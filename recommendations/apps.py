from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    verbose_name = _("Recommendations")

    def ready(self) -> None:
        from consent.signals import consent_narrowed, consent_widened
        from portal.notices.signals import notice_changed
        from portal.residents.signals import profile_changed
        from recommendations import receivers

        consent_narrowed.connect(
            receivers.rescore_on_narrowed_consent,
            dispatch_uid="recommendations.rescore_on_narrowed_consent",
        )
        consent_widened.connect(
            receivers.rescore_on_widened_consent,
            dispatch_uid="recommendations.rescore_on_widened_consent",
        )
        profile_changed.connect(
            receivers.rescore_on_profile_change,
            dispatch_uid="recommendations.rescore_on_profile_change",
        )
        notice_changed.connect(
            receivers.fan_out_on_publication,
            dispatch_uid="recommendations.fan_out_on_publication",
        )
