"""The Celery application. Configuration lives in settings.py under the CELERY_ prefix."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["portal.infra"])


@worker_ready.connect
def _beat_once_on_start(sender: object, **kwargs: object) -> None:
    # A fresh worker reports itself at once instead of waiting for beat's first tick.
    from portal.infra.health import record_worker_heartbeat

    hostname = getattr(sender, "hostname", "") or ""
    record_worker_heartbeat(hostname=str(hostname))
