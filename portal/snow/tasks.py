"""Worker tasks of the snow service. Thin: each calls one service."""

from __future__ import annotations

from celery import shared_task
from celery.contrib.django.task import DjangoTask


@shared_task(name="snow.prune_positions", queue_name="ingest", base=DjangoTask, ignore_result=True)
def prune_positions() -> int:
    from portal.snow.services import positions_prune

    return positions_prune()


@shared_task(
    name="snow.update_area_status", queue_name="ingest", base=DjangoTask, ignore_result=True
)
def update_area_status() -> int:
    """Beat sends this every SNOW_STATUS_SECONDS: idempotent, so an overlap or a rerun is
    harmless."""
    from portal.snow.services import area_status_update

    return area_status_update()


@shared_task(name="snow.refresh_notices", queue_name="ingest", base=DjangoTask, ignore_result=True)
def refresh_notices() -> int:
    """Beat sends this every minute: idempotent (a version of an area's notice is made once)."""
    from portal.snow.notices import snow_notices_refresh

    return snow_notices_refresh()
