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

from consent.emails import counter_notice_send, dispute_answer_send
from consent.ledger import HeadMark
from consent.reports.data_use_check import data_use_check, days_to_check
from consent.reports.services import data_use_days_roll_up, overview_snapshot_refresh
from consent.reports.statistics import planning_statistics_compute
from consent.selectors import ledger_head
from consent.services import (
    consents_expire,
    counter_withdrawal_holds_release,
    data_use_log_prune,
    ledger_verify,
)

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
def prune_data_use_log(batch_size: int = 5000) -> int:
    """Forget the data-use log's days older than DATA_USE_LOG_RETENTION_DAYS, in batches."""
    before = timezone.localdate() - timedelta(days=settings.DATA_USE_LOG_RETENTION_DAYS)
    deleted = data_use_log_prune(before=before, batch_size=batch_size)
    logger.info("Pruned %d data-use log rows", deleted)
    return deleted


@shared_task(
    name="consent.send_counter_notice",
    queue_name="notify",
    base=DjangoTask,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=8,
)
def send_counter_notice(paper_form_id: int, unmatched_address: str = "") -> bool:
    """Tell the address on a paper form what the counter recorded (or that nothing was)."""
    return counter_notice_send(paper_form_id=paper_form_id, unmatched_address=unmatched_address)


@shared_task(
    name="consent.log_ledger_head", queue_name="default", base=DjangoTask, ignore_result=True
)
def log_ledger_head() -> str:
    """Write the ledger's head to the log, which is kept outside the database.

    Someone able to cut the ledger back could rewind its recorded head too; a head from the log
    given to ``consent_verify_ledger --expect-head`` shows it (the ledger no longer reaches it).
    """
    head = str(ledger_head())
    logger.info("Consent ledger head %s (check with consent_verify_ledger --expect-head)", head)
    return head


@shared_task(
    name="consent.verify_ledger",
    queue_name="default",
    base=DjangoTask,
    ignore_result=True,
    # It reads the whole ledger, about a minute per million events (measured on PostgreSQL):
    # past a few million, longer than the default limits allow. Still under the default
    # CELERY_VISIBILITY_TIMEOUT, after which another worker would start it again.
    soft_time_limit=1800,
    time_limit=1860,
)
def verify_ledger() -> bool:
    """Check the ledger as consent_verify_ledger does, every night, so that a rewritten or
    unsigned event is reported (as an ERROR, for whoever watches the logs) within a day; the
    run is recorded for the consent reports."""
    run = ledger_verify()
    if not run.chain_intact:
        logger.error("Consent ledger is NOT intact: %s", run.problem)
        return False
    if not run.intact:
        logger.error("Consent states do NOT match the ledger: %s", run.problem)
        return False
    logger.info(
        "Consent ledger intact: %d events verified, head %s; states match for %d accounts",
        run.events_verified,
        HeadMark(run.head_hash, run.events_verified),
        run.accounts_checked,
    )
    return True


@shared_task(
    name="consent.release_counter_withdrawal_holds",
    queue_name="default",
    base=DjangoTask,
    ignore_result=True,
)
def release_counter_withdrawal_holds() -> int:
    """Erase what counter withdrawals left uncovered, once residents could dispute them."""
    released = counter_withdrawal_holds_release()
    logger.info("Released %d counter withdrawal holds", released)
    return released


@shared_task(
    name="consent.send_dispute_answer",
    queue_name="notify",
    base=DjangoTask,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=8,
)
def send_dispute_answer(dispute_id: int) -> bool:
    """Email a consent officer's answer to the resident who disputed a paper form."""
    return dispute_answer_send(dispute_id=dispute_id)


@shared_task(
    name="consent.count_planning_statistics",
    queue_name="default",
    base=DjangoTask,
    ignore_result=True,
)
def count_planning_statistics() -> int:
    """Count the residents by home area and age band, through the consent gate, for the
    reports' breakdowns and the coverage of warnings; returns how many were read."""
    run = planning_statistics_compute()
    logger.info("Anonymous statistics: %d of %d residents read", run.residents_read, run.registered)
    return run.residents_read


@shared_task(
    name="consent.check_data_use", queue_name="default", base=DjangoTask, ignore_result=True
)
def check_data_use(days: int = 2) -> int:
    """Check the data-use log of the last ``days`` days (those not checked since they ended)
    against the consent ledger; returns how many reads lay outside an active consent (it must
    be none: any is logged as an ERROR)."""
    outside = 0
    for day in days_to_check(today=timezone.localdate(), days=days):
        check = data_use_check(day=day)
        outside += check.outside_consent
        if check.outside_consent:
            logger.error(
                "Data-use log of %s: %d reads outside an active consent; first: %s",
                day,
                check.outside_consent,
                check.problems.splitlines()[0],
            )
    return outside


@shared_task(
    name="consent.refresh_report_overview",
    queue_name="default",
    base=DjangoTask,
    ignore_result=True,
)
def refresh_report_overview() -> None:
    """Count the consent reports' overview again (a page reads the counts kept)."""
    overview_snapshot_refresh()


@shared_task(
    name="consent.roll_up_data_use", queue_name="default", base=DjangoTask, ignore_result=True
)
def roll_up_data_use() -> int:
    """Keep each ended day's data-use counts for the report; returns how many days."""
    return data_use_days_roll_up()
