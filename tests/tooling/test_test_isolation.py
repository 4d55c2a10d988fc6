"""What one test does to the process leaves no trace in the tests that run after it."""

from __future__ import annotations

import asyncio

import pytest
from django.core.exceptions import SynchronousOnlyOperation

from portal.models import User


def test_django_refuses_orm_calls_from_async_code_outside_the_browser_tests() -> None:
    # No database mark: pytest-django runs this after the browser tests, and Django's check
    # refuses the query before the database is ever asked.
    async def count_residents() -> int:
        return User.objects.count()

    with pytest.raises(SynchronousOnlyOperation):
        asyncio.run(count_residents())
