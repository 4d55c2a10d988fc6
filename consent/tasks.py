"""Periodic consent work. Thin: each task calls one service and is safe to run twice.

Names are stable ("consent.<what>") and each task names its queue: see portal/celery.py.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.utils import timezone

from consent.models import DataUseEvent
from consent.services import consents_expire

logger = logging.getLogger(__name__)


@shared_task(
    name="consent.expire_consents", queue_name="default", base=DjangoTask, ignore_result=True
)
def expire_consents() -> int:
    """Append expiry events for consents past their validity, and erase what they covered."""
    expired = consents_expire()
    logger.info("Expired %d consents", expired)
    return expired


@shared_task(
    name="consent.prune_data_use_log", queue_name="default", base=DjangoTask, ignore_result=True
)
def prune_data_use_log() -> int:
    """Forget data-use log entries older than DATA_USE_LOG_RETENTION_DAYS."""
    cutoff = timezone.now() - timedelta(days=settings.DATA_USE_LOG_RETENTION_DAYS)
    deleted, _detail = DataUseEvent.objects.filter(at__lt=cutoff).delete()
    return deleted
