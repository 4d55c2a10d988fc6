"""Deploy checks of the notifications' settings (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from portal.notifications.channels.push import vapid_key

DEFAULT_VAPID_SUBJECT = "mailto:webmaster@machiplus.localhost"


@register(Tags.security, deploy=True)
def check_notification_settings(**kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    if settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES:
        problems.append(
            Error(
                "NOTIFY_ALLOW_PRIVATE_ADDRESSES is on: a resident's gateway or push address may "
                "make the worker call into the city's own network.",
                hint="Unset it in production (it is for development and tests).",
                id="notifications.E001",
            )
        )
    if bool(settings.VAPID_PUBLIC_KEY) != bool(settings.VAPID_PRIVATE_KEY):
        problems.append(
            Error(
                "Only one of VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY is set: no push can be sent.",
                hint="Set both from `python manage.py generate_vapid_keys`, or neither.",
                id="notifications.E002",
            )
        )
    elif settings.VAPID_PUBLIC_KEY:
        key, problem = vapid_key()
        if key is None:
            problems.append(
                Error(
                    f"The VAPID keys cannot be used ({problem}).",
                    hint="Make a new pair with `python manage.py generate_vapid_keys`.",
                    id="notifications.E003",
                )
            )
        if settings.VAPID_SUBJECT == DEFAULT_VAPID_SUBJECT:
            problems.append(
                Warning(
                    "VAPID_SUBJECT is the default address: push services may refuse it, and "
                    "cannot reach the city about its push messages.",
                    hint="Set it to mailto: an address the city reads, or its https site.",
                    id="notifications.W001",
                )
            )
    return problems
