"""Worker tasks of the recommender, on the ``scoring`` queue. Thin: each calls one service.

All are idempotent (a rescore replaces what it covers whole), so a task run twice after a
worker was killed leaves the same feeds.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import group, shared_task
from celery.contrib.django.task import DjangoTask
from celery.signals import worker_init

logger = logging.getLogger(__name__)


@worker_init.connect
def load_the_scorer(**kwargs: Any) -> None:
    """Before the pool forks: its processes start with NumPy, SciPy and scikit-learn loaded, so
    the first rescore after a start does not spend seconds importing them."""
    import recommendations.services  # noqa: F401


@shared_task(
    name="recommendations.rescore_resident",
    queue_name="scoring",
    base=DjangoTask,
    ignore_result=True,
)
def rescore_resident(resident_id: int) -> int:
    """On a change of the resident's consent or profile: within seconds."""
    from recommendations.services import feeds_rescore

    return feeds_rescore(id_range=(resident_id, resident_id)).entries


@shared_task(
    name="recommendations.rescore_range", queue_name="scoring", base=DjangoTask, ignore_result=True
)
def rescore_range(low: int, high: int) -> int:
    from recommendations.services import feeds_rescore

    return feeds_rescore(id_range=(low, high)).residents


@shared_task(
    name="recommendations.rescore_everyone",
    queue_name="scoring",
    base=DjangoTask,
    ignore_result=True,
)
def rescore_everyone() -> int:
    """Beat sends this periodically: one range task per RECOMMENDER_RANGE_SIZE residents, as a
    Celery group that every worker on every machine shares. Returns the number of ranges."""
    from recommendations.services import rescore_ranges

    ranges = rescore_ranges()
    if ranges:
        group(rescore_range.si(low, high) for low, high in ranges).apply_async()
    return len(ranges)


@shared_task(
    name="recommendations.fan_out_notice", queue_name="scoring", base=DjangoTask, ignore_result=True
)
def fan_out_notice(notice_id: int) -> int:
    """On a notice's publication (or a new version of it): it enters the feeds where it ranks,
    as a group of range tasks that every worker shares. Returns the number of ranges."""
    from recommendations.services import sharing_ranges

    ranges = sharing_ranges()
    if ranges:
        group(fan_out_range.si(notice_id, low, high) for low, high in ranges).apply_async()
    return len(ranges)


@shared_task(
    name="recommendations.fan_out_range", queue_name="scoring", base=DjangoTask, ignore_result=True
)
def fan_out_range(notice_id: int, low: int, high: int) -> int:
    from recommendations.services import feeds_fan_out

    return feeds_fan_out(notice_id=notice_id, id_range=(low, high)).feeds_entered


@shared_task(
    name="recommendations.train_model", queue_name="scoring", base=DjangoTask, ignore_result=True
)
def train_model() -> bool:
    """Periodically: a new model version from the latest interactions, promoted only if it beats
    the active one on the same held-out pairs (the next rescore then uses it). Returns whether
    it was promoted."""
    from django.utils import timezone

    from recommendations.training import model_train_and_promote

    outcome = model_train_and_promote(now=timezone.now())
    # "Too few interactions" records no version: the log is where staff see the run happened.
    logger.info("recommender training: %s", outcome.reason)
    return outcome.promoted
