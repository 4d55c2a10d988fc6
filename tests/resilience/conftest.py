"""Fixtures of the failure tests: a Redis server of the test's own and the site's processes
against it and the test database (tests/resilience/processes.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.resilience.processes import RedisServer, Site
from tests.worker.conftest import database_url_of_test_database


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory=tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def site(own_redis: RedisServer, tmp_path: Path, transactional_db: None) -> Iterator[Site]:
    running = Site(redis=own_redis, tmp_path=tmp_path, database_url=database_url_of_test_database())
    running.mail_dir.mkdir()
    yield running
    running.stop()
