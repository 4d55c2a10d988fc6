"""Tasks asked for by a change reach the broker through the database (portal/infra/task_outbox.py):
sent at once when the broker is there, kept when it is not, and sent by the sweep later."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from portal.celery import app
from portal.infra import task_outbox
from portal.infra.cache import Breaker
from portal.infra.task_outbox import enqueue_on_commit, send_outbox_tasks
from portal.infra.tasks import clear_expired_sessions
from portal.models import OutboxTask

pytestmark = pytest.mark.django_db

DEAD_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, dict[str, object]]]:
    """What reached the broker: the name and arguments of each task sent."""
    published: list[tuple[str, dict[str, object]]] = []

    def send_task(name, args=None, kwargs=None, **options):
        published.append((name, kwargs or {}))

    monkeypatch.setattr(app, "send_task", send_task)
    return published


@pytest.fixture
def broker_down(monkeypatch) -> Iterator[None]:
    monkeypatch.setitem(app.conf, "broker_url", DEAD_BROKER)
    forget_broker_connections()
    yield
    monkeypatch.undo()
    forget_broker_connections()


def forget_broker_connections() -> None:
    """Celery keeps its producers' pool for the broker URL it first saw; later tests must not
    publish to the dead broker."""
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


def test_a_task_is_sent_once_the_transaction_commits_and_leaves_no_row(
    sent, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue_on_commit(clear_expired_sessions)
        assert OutboxTask.objects.count() == 1
        assert sent == []

    assert sent == [("portal.clear_expired_sessions", {})]
    assert not OutboxTask.objects.exists()


def test_a_rolled_back_change_sends_nothing_and_keeps_nothing(
    sent, django_capture_on_commit_callbacks
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue_on_commit(clear_expired_sessions)
        raise RuntimeError("roll back")

    assert sent == []
    assert not OutboxTask.objects.exists()


def test_with_the_broker_down_the_task_waits_in_the_database_with_the_error(
    broker_down, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(clear_expired_sessions)

    entry = OutboxTask.objects.get()
    assert entry.task_name == "portal.clear_expired_sessions"
    assert "Connection refused" in entry.last_error


def test_after_one_failure_the_next_requests_do_not_try_the_dead_broker_again(
    broker_down, django_capture_on_commit_callbacks
) -> None:
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            enqueue_on_commit(clear_expired_sessions)

    errors = sorted(OutboxTask.objects.values_list("last_error", flat=True))
    assert errors[0] == ""
    assert "Connection refused" in errors[1]


def test_the_sweep_sends_waiting_tasks_oldest_first_and_deletes_them(sent) -> None:
    import consent.tasks  # noqa: F401  (a worker has every tasks module imported)

    first = OutboxTask.objects.create(task_name="portal.heartbeat", kwargs={})
    second = OutboxTask.objects.create(
        task_name="consent.send_dispute_answer", kwargs={"dispute_id": 7}
    )

    sweep = send_outbox_tasks(now=timezone.now() + timedelta(minutes=1))

    assert sweep.sent == 2
    assert sweep.waiting == 0
    assert sent == [("portal.heartbeat", {}), ("consent.send_dispute_answer", {"dispute_id": 7})]
    assert not OutboxTask.objects.filter(pk__in=[first.pk, second.pk]).exists()


def test_the_sweep_leaves_rows_younger_than_a_few_seconds_to_the_process_sending_them(
    sent,
) -> None:
    OutboxTask.objects.create(task_name="portal.heartbeat", kwargs={})

    sweep = send_outbox_tasks()

    assert sweep.sent == 0
    assert sweep.waiting == 1
    assert sent == []


def test_the_sweep_stops_at_the_first_broker_refusal_and_keeps_the_rest(broker_down) -> None:
    OutboxTask.objects.create(task_name="portal.heartbeat", kwargs={})
    OutboxTask.objects.create(task_name="portal.heartbeat", kwargs={})

    sweep = send_outbox_tasks(now=timezone.now() + timedelta(minutes=1))

    assert sweep.sent == 0
    assert sweep.waiting == 2
    errors = list(OutboxTask.objects.order_by("id").values_list("last_error", flat=True))
    assert "Connection refused" in errors[0]
    assert errors[1] == ""
    # The broker being away is not the task's failure: it waits as long as it takes.
    assert set(OutboxTask.objects.values_list("attempts", flat=True)) == {0}


def test_a_task_the_worker_does_not_know_is_recorded_and_skipped(sent) -> None:
    unknown = OutboxTask.objects.create(task_name="portal.renamed_long_ago", kwargs={})
    OutboxTask.objects.create(task_name="portal.heartbeat", kwargs={})

    sweep = send_outbox_tasks(now=timezone.now() + timedelta(minutes=1))

    assert sweep.sent == 1
    assert sent == [("portal.heartbeat", {})]
    unknown.refresh_from_db()
    assert unknown.attempts == 1
    assert "NotRegistered" in unknown.last_error


def test_a_task_whose_arguments_are_refused_does_not_resend_the_others(sent, monkeypatch) -> None:
    OutboxTask.objects.create(task_name="portal.heartbeat", kwargs={})
    OutboxTask.objects.create(task_name="portal.clear_expired_sessions", kwargs={"wrong": 1})
    OutboxTask.objects.create(task_name="portal.heartbeat", kwargs={})
    real = app.send_task

    def refuse_wrong_arguments(name, args=None, kwargs=None, **options):
        if kwargs and "wrong" in kwargs:
            raise TypeError("clear_expired_sessions() got an unexpected keyword argument 'wrong'")
        return real(name, args=args, kwargs=kwargs, **options)

    monkeypatch.setattr(app, "send_task", refuse_wrong_arguments)
    later = timezone.now() + timedelta(minutes=1)
    send_outbox_tasks(now=later)
    send_outbox_tasks(now=later)

    assert sent == [("portal.heartbeat", {}), ("portal.heartbeat", {})]
    assert OutboxTask.objects.get().attempts == 2


def test_a_task_that_keeps_failing_is_given_up(sent) -> None:
    entry = OutboxTask.objects.create(task_name="portal.renamed_long_ago", kwargs={})
    later = timezone.now() + timedelta(minutes=1)
    for _ in range(task_outbox.MAX_TASK_FAILURES + 2):
        send_outbox_tasks(now=later)

    entry.refresh_from_db()
    assert entry.gave_up_at is not None
    assert entry.attempts == task_outbox.MAX_TASK_FAILURES


def test_a_row_the_sweep_already_sent_is_not_sent_again_by_its_request(
    sent, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue_on_commit(clear_expired_sessions)
    send_outbox_tasks(now=timezone.now() + timedelta(minutes=1))
    for callback in callbacks:
        callback()

    assert sent == [("portal.clear_expired_sessions", {})]


def test_the_sweep_goes_through_more_than_one_batch(sent) -> None:
    OutboxTask.objects.bulk_create(
        OutboxTask(task_name="portal.heartbeat", kwargs={}) for _ in range(5)
    )

    sweep = send_outbox_tasks(batch_size=2, now=timezone.now() + timedelta(minutes=1))

    assert sweep.sent == 5
    assert len(sent) == 5


def test_the_broker_is_tried_again_after_its_retry_interval(
    broker_down, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    now = [1000.0]
    monkeypatch.setattr(
        task_outbox,
        "_broker",
        Breaker("Redis broker", consequence="tasks wait", retry_seconds=5, clock=lambda: now[0]),
    )
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            enqueue_on_commit(clear_expired_sessions)
        now[0] += 5.1

    errors = OutboxTask.objects.values_list("last_error", flat=True)
    assert all("Connection refused" in error for error in errors)
