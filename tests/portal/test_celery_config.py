"""The Celery app is configured for safe, idempotent background work."""

from __future__ import annotations

import contextlib
import importlib

from portal.celery import app


def test_tasks_are_acknowledged_late_and_requeued_if_the_worker_dies() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True


def test_only_json_is_accepted_and_sent() -> None:
    assert app.conf.task_serializer == "json"
    assert list(app.conf.accept_content) == ["json"]


def test_every_task_has_a_soft_and_a_hard_time_limit() -> None:
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit


def test_named_queues_exist_for_ingest_scoring_and_notifications() -> None:
    names = {queue.name for queue in app.conf.task_queues}
    assert {"ingest", "scoring", "notify", "default"} <= names


def test_beat_sends_the_worker_heartbeat() -> None:
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "portal.infra.tasks.heartbeat" in tasks


def test_every_beat_entry_names_a_registered_task() -> None:
    # Import every app's tasks module, as the worker's autodiscovery does.
    for app_name in ("portal", "consent", "recommendations"):
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(f"{app_name}.tasks")

    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks
