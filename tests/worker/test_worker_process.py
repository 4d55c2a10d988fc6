"""End to end through a real Celery worker process, the real broker and the test database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from portal.infra import tasks
from portal.infra.health import HEARTBEAT_CACHE_KEY
from tests.worker.conftest import TEST_VISIBILITY_TIMEOUT, wait_for
from tests.worker.tasks import record_run

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_reports_its_heartbeat_and_healthz_turns_ok(start_worker, client, settings) -> None:
    settings.HEALTHZ_TOKEN = "operators-token"
    assert client.get("/healthz").json() == {"status": "degraded"}
    worker = start_worker()
    cache.delete(HEARTBEAT_CACHE_KEY)

    tasks.heartbeat.delay()

    wait_for(lambda: cache.get(HEARTBEAT_CACHE_KEY), timeout=30, what="a heartbeat")
    beat = cache.get(HEARTBEAT_CACHE_KEY)
    assert beat["hostname"].startswith(worker.name.split("@")[0])
    response = client.get("/healthz", HTTP_AUTHORIZATION="Bearer operators-token")
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "worker": "ok",
        "outbox": "ok",
    }


def test_task_enqueued_on_commit_runs_in_the_worker_against_the_database(start_worker) -> None:
    start_worker()
    Session.objects.create(
        session_key="expired-session",
        session_data="",
        expire_date=timezone.now() - timedelta(days=1),
    )
    Session.objects.create(
        session_key="live-session", session_data="", expire_date=timezone.now() + timedelta(days=1)
    )

    with transaction.atomic():
        tasks.clear_expired_sessions.delay_on_commit()

    wait_for(
        lambda: not Session.objects.filter(session_key="expired-session").exists(),
        timeout=30,
        what="the worker to delete the expired session",
    )
    assert Session.objects.filter(session_key="live-session").exists()


def test_task_enqueued_in_a_rolled_back_transaction_is_never_sent(start_worker) -> None:
    start_worker()
    token = uuid.uuid4().hex
    with pytest.raises(RuntimeError), transaction.atomic():
        record_run.delay_on_commit(token)
        raise RuntimeError("roll back")
    record_run.delay(f"{token}-marker")
    wait_for(lambda: cache.get(f"worker-test:{token}-marker:finished"), timeout=30, what="marker")
    assert cache.get(f"worker-test:{token}:started") is None


def test_task_of_a_killed_worker_is_redelivered_to_another_worker(start_worker) -> None:
    first = start_worker("doomed")
    token = uuid.uuid4().hex
    record_run.delay(token, first_run_seconds=120)
    wait_for(
        lambda: cache.get(f"worker-test:{token}:started"), timeout=30, what="the task to start"
    )

    first.kill_hard()
    start_worker("rescuer")

    wait_for(
        lambda: cache.get(f"worker-test:{token}:finished"),
        timeout=TEST_VISIBILITY_TIMEOUT + 60,
        what="the task to be redelivered after its worker died",
    )
    assert cache.get(f"worker-test:{token}:started") == 2
    assert cache.get(f"worker-test:{token}:finished") == 1
