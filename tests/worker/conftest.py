"""A real `celery worker` process, started against the real broker and the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from portal.celery import app

PROJECT_DIR = Path(settings.BASE_DIR)
# Short, so that a task whose worker was killed comes back within a test's patience.
TEST_VISIBILITY_TIMEOUT = 4


def database_url_of_test_database() -> str:
    """The URL of the database pytest-django created, for another process to use."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"


@dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill_hard(self) -> None:
        """SIGKILL the whole worker, as the kernel's OOM killer or a lost machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill_hard()


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def start_worker(transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start `celery -A portal worker` processes; each is stopped when the test ends."""
    started: list[WorkerProcess] = []
    broker_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        # This test process's key prefixes: its own under pytest-xdist (see tests/conftest.py).
        "CACHE_KEY_PREFIX": str(settings.CACHES["default"]["KEY_PREFIX"]),
        "CELERY_BROKER_KEY_PREFIX": str(broker_options["global_keyprefix"]),
        "CELERY_VISIBILITY_TIMEOUT": str(TEST_VISIBILITY_TIMEOUT),
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "PYTHONPATH": str(PROJECT_DIR),
    }

    def start(
        name: str = "test-worker", *, beat: bool = False, extra_env: dict[str, str] | None = None
    ) -> WorkerProcess:
        """``beat``: the worker runs beat too (``-B``), with its schedule file in tmp_path."""
        hostname = f"{name}-{len(started)}@%h"
        log_path = tmp_path / f"{name}-{len(started)}.log"
        beat_args = ["-B", f"--schedule={tmp_path / f'beat-{len(started)}'}"] if beat else []
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "portal", "worker",
                    "--pool=prefork", "--concurrency=1", "--loglevel=INFO",
                    "--queues=default,ingest,scoring,notify",
                    "--include=tests.worker.tasks",
                    "--without-gossip", "--without-mingle",
                    f"--hostname={hostname}",
                    *beat_args,
                ],
                cwd=PROJECT_DIR, env={**env, **(extra_env or {})},
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        worker = WorkerProcess(name=hostname, process=process, log_path=log_path)
        started.append(worker)
        wait_for(lambda: "ready." in worker.log() or process.poll() is not None,
                 timeout=60, what="the worker to start")  # fmt: skip
        assert process.poll() is None, f"worker exited:\n{worker.log()}"
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(autouse=True)
def _purge_queues(redis_server: str) -> Iterator[None]:
    """No task of an earlier test may reach this test's worker."""
    with app.connection_for_write() as conn:
        for queue in app.conf.task_queues:
            queue.bind(conn.default_channel).purge()
    yield
