"""Tasks used only by the worker tests; the test worker imports them with --include."""

from __future__ import annotations

import time

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.core.cache import cache


@shared_task(
    name="tests.worker.record_run", queue_name="default", base=DjangoTask, ignore_result=True
)
def record_run(token: str, first_run_seconds: float = 0.0) -> None:
    """Count the runs of ``token``; the first run lingers, so a test can kill its worker."""
    cache.add(f"worker-test:{token}:started", 0, timeout=600)
    runs = cache.incr(f"worker-test:{token}:started")
    if runs == 1:
        time.sleep(first_run_seconds)
    cache.add(f"worker-test:{token}:finished", 0, timeout=600)
    cache.incr(f"worker-test:{token}:finished")
