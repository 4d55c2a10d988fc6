"""Worker tasks of the feeds, on the ``ingest`` queue. Thin: each calls one service."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask

logger = logging.getLogger(__name__)


@shared_task(
    name="feeds.poll_due_sources", queue_name="ingest", base=DjangoTask, ignore_result=True
)
def poll_due_sources() -> int:
    """Beat sends this every FEEDS_BEAT_SECONDS: one poll task per source due, so a slow or
    failing source never holds up the others."""
    from portal.feeds.services import sources_claim_due

    claimed = sources_claim_due()
    for source_id in claimed:
        poll_source.delay(source_id)
    return len(claimed)


@shared_task(name="feeds.poll_source", queue_name="ingest", base=DjangoTask, ignore_result=True)
def poll_source(source_id: int, origin: str = "beat") -> str:
    """Idempotent: a version already ingested changes nothing, so running twice is harmless."""
    from portal.feeds.services import source_poll

    run = source_poll(source_id=source_id, origin=origin)
    return str(run.status)


@shared_task(name="feeds.prune_runs", queue_name="ingest", base=DjangoTask, ignore_result=True)
def prune_runs() -> int:
    from portal.feeds.services import runs_prune

    return runs_prune()
