"""The Celery app is configured for safe, idempotent background work, and every task is routed
to a named queue that the worker serves."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest.mock import patch

import pytest
from celery import Task
from celery.contrib.django.task import DjangoTask

from portal.celery import PROJECT_DIR, app, project_task_packages

NAMED_QUEUES = {"ingest", "scoring", "notify", "default"}


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> dict[str, Task]:
    """The project's tasks, imported as `celery -A portal worker` does at start; the test worker
    (tests/worker/conftest.py) adds tests.worker.tasks with --include."""
    # Django's system checks, which the worker also runs at this point, are not this test's.
    monkeypatch.setenv("CELERY_SKIP_CHECKS", "1")
    app.loader.import_default_modules()
    importlib.import_module("tests.worker.tasks")
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


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
    assert names == NAMED_QUEUES


def test_tasks_are_routed_by_the_queue_they_declare_not_by_module_path() -> None:
    assert app.conf.task_routes == ("portal.celery.route_to_declared_queue",)


@pytest.fixture
def scoring_task() -> Iterator[Task]:
    """A task of the scoring queue, registered for one test only."""

    @app.task(name="tests.score_everyone", queue_name="scoring", base=DjangoTask, shared=False)
    def score_everyone() -> None:
        """Never run: only routed."""

    yield score_everyone
    app.tasks.unregister("tests.score_everyone")


def queue_sent_to(send: Callable[..., object], *args: object, **options: object) -> str:
    """The queue Celery publishes to when ``send`` is called (nothing reaches the broker)."""
    with patch.object(app.amqp, "send_task_message") as publish:
        send(*args, **options)
    return str(publish.call_args.kwargs["queue"].name)


def test_a_task_goes_to_the_queue_it_declares(scoring_task) -> None:
    assert queue_sent_to(scoring_task.delay) == "scoring"


def test_a_task_sent_by_name_goes_to_the_queue_it_declares(scoring_task) -> None:
    assert queue_sent_to(app.send_task, "tests.score_everyone") == "scoring"


def test_a_queue_given_when_sending_overrides_the_declared_one(scoring_task) -> None:
    assert queue_sent_to(scoring_task.apply_async, queue="notify") == "notify"


def test_a_task_unknown_to_the_sender_goes_to_the_default_queue() -> None:
    assert queue_sent_to(app.send_task, "tests.not_registered_here") == "default"


def test_beat_sends_the_worker_heartbeat() -> None:
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "portal.heartbeat" in tasks


def test_every_beat_entry_names_a_registered_task(registered) -> None:
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in registered, name


def test_every_task_declares_one_of_the_named_queues_and_is_routed_there(registered) -> None:
    for name, task in registered.items():
        declared = getattr(task, "queue_name", None)
        assert declared in NAMED_QUEUES, f"{name} declares queue {declared!r}"
        assert queue_sent_to(app.send_task, name) == declared, name


def test_no_task_uses_celerys_deprecated_routing_attributes(registered) -> None:
    """Celery 5.7 deprecates queue=, routing_key= etc. on tasks; from 6.0 they do nothing."""
    for name, task in registered.items():
        assert not {"queue", "routing_key", "exchange"} & set(type(task).__dict__), name


def test_every_task_has_a_stable_name_not_its_module_path(registered) -> None:
    """Moving a module must not rename a task that beat or a queue still holds."""
    for name, task in registered.items():
        assert not name.startswith(f"{task.__module__}."), name


def test_the_workers_serve_every_named_queue() -> None:
    for procfile in ("Procfile", "Procfile.dev"):
        [worker] = [
            line
            for line in (PROJECT_DIR / procfile).read_text().splitlines()
            if line.startswith("worker:")
        ]
        match = re.search(r"--queues=(\S+)", worker)
        assert match, f"{procfile}: the worker names no --queues"
        assert set(match.group(1).split(",")) >= NAMED_QUEUES, procfile


def test_tasks_of_a_nested_package_are_discovered_as_the_worker_does(registered) -> None:
    assert "portal.heartbeat" in registered  # defined in portal.infra.tasks


@pytest.fixture
def project_tree(tmp_path: Path) -> Path:
    for module in (
        "portal/__init__.py",
        "portal/notices/__init__.py",
        "portal/notices/tasks.py",
        "portal/feeds/__init__.py",
        "portal/feeds/connectors/__init__.py",
        "portal/feeds/connectors/tasks/__init__.py",
        "portal/migrations/__init__.py",
        "portal/migrations/tasks.py",
        "portal/demo/data/tasks.py",
        "consent/__init__.py",
        "consent/tasks.py",
    ):
        (tmp_path / module).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / module).touch()
    return tmp_path


def test_every_package_with_a_tasks_module_is_searched_at_any_depth(project_tree) -> None:
    assert project_task_packages(project_tree) == [
        "consent",
        "portal.feeds.connectors",
        "portal.notices",
    ]


def test_the_project_apps_tasks_packages_are_searched() -> None:
    assert {"consent", "portal.infra"} <= set(project_task_packages())
