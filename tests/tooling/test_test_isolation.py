"""What one test does to the process leaves no trace in the tests that run after it."""

from __future__ import annotations

import asyncio
import fnmatch

import pytest
from django.core.exceptions import SynchronousOnlyOperation

from portal.models import User
from tests.conftest import redis_settings_of_test_process


def test_django_refuses_orm_calls_from_async_code_outside_the_browser_tests() -> None:
    # No database mark: pytest-django runs this after the browser tests, and Django's check
    # refuses the query before the database is ever asked.
    async def count_residents() -> int:
        return User.objects.count()

    with pytest.raises(SynchronousOnlyOperation):
        asyncio.run(count_residents())


def cache_prefix_of(xdist_worker: str) -> str:
    return str(redis_settings_of_test_process(xdist_worker)["CACHES"]["default"]["KEY_PREFIX"])


def broker_prefix_of(xdist_worker: str) -> str:
    options = redis_settings_of_test_process(xdist_worker)["CELERY_BROKER_TRANSPORT_OPTIONS"]
    return str(options["global_keyprefix"])


def test_parallel_test_processes_never_delete_each_others_cache_keys() -> None:
    """clean_cache deletes ``<prefix>:*``; Django's cache keys are ``<prefix>:<version>:<key>``."""
    processes = ["", "gw0", "gw1", "gw10"]
    for cleaner in processes:
        for other in processes:
            if other != cleaner:
                other_key = f"{cache_prefix_of(other)}:1:health:worker-heartbeat"
                assert not fnmatch.fnmatchcase(other_key, f"{cache_prefix_of(cleaner)}:*")


def test_parallel_test_processes_have_queues_of_their_own() -> None:
    prefixes = [broker_prefix_of(worker) for worker in ("", "gw0", "gw1", "gw10")]
    assert len(set(prefixes)) == len(prefixes)
    assert not any(a != b and b.startswith(a) for a in prefixes[1:] for b in prefixes[1:])
