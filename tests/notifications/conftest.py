"""A small city for notifications: Aizuwakamatsu with two districts, residents who asked for
warnings by email, and a way to run what the outbox holds as the worker would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from consent.catalogue import Category, PurposeCode
from portal.celery import app
from portal.models import Area, OutboxTask, User
from portal.notices.services import IngestedVersion
from portal.notifications.services import Preferences, preferences_update
from portal.residents.services import place_add, profile_set_language
from tests.factories import DistrictFactory, MunicipalityFactory, UserFactory
from tests.helpers import grant, withdraw

ISSUED = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
# Tasks the worker would run for a notice's change: the notices' announcement and everything of
# notifications. The recommender's fan-out is another test's business.
RUN_PREFIXES = ("notices.announce_change", "notifications.")


@dataclass
class City:
    municipality: Area
    kitamachi: Area
    minamimachi: Area


@pytest.fixture
def city() -> City:
    municipality = MunicipalityFactory.create(code="072028", name_ja="会津若松市")
    return City(
        municipality=municipality,
        kitamachi=DistrictFactory.create(code="072028-kita", name_ja="北町", parent=municipality),
        minamimachi=DistrictFactory.create(
            code="072028-minami", name_ja="南町", parent=municipality
        ),
    )


def resident_in(
    area: Area,
    *,
    channels: Sequence[str] = ("email",),
    warnings: bool = True,
    drills: bool = False,
    consent: bool = True,
    email: str | None = None,
    language: str | None = None,
) -> User:
    """A resident with a home in ``area``, sharing it for disaster warnings, who asked for
    warnings on ``channels``."""
    resident = UserFactory.create(**({"email": email} if email else {}))
    categories = [Category.PLACES, Category.LANGUAGE] if language else [Category.PLACES]
    grant(resident, PurposeCode.DISASTER_WARNINGS, *categories)
    place_add(resident_id=resident.pk, kind="home", area_code=area.code)
    if language:
        profile_set_language(
            resident_id=resident.pk,
            preferred_language=language,
            large_text=False,
            easy_japanese=False,
        )
    if not consent:
        withdraw(resident, purpose=PurposeCode.DISASTER_WARNINGS)
    preferences_update(
        resident_id=resident.pk,
        preferences=Preferences(channels=channels, warnings=warnings, drills=drills),
    )
    return resident


def warning(n: int = 1, **overrides: Any) -> IngestedVersion:
    """Version ``n`` of a JMA heavy-snow warning series."""
    values: dict[str, Any] = {
        "source": "jma",
        "series": "jma:気象警報・注意報:福島地方気象台:通常",
        "version_id": f"jma:気象警報・注意報:福島地方気象台:通常@v{n}",
        "version_at": ISSUED + timedelta(minutes=10 * n),
        "action": "issue",
        "category": "disaster",
        "urgency": "warning",
        "title_ja": f"会津若松市に大雪警報（第{n}報）",
        "title_en": f"Heavy snow warning for Aizuwakamatsu (report {n})",
        "body_ja": "会津若松市では、大雪に警戒してください。",
        "expires_at": timezone.now() + timedelta(hours=12),
    }
    values.update(overrides)
    return IngestedVersion(**values)


def run_worker_tasks(*, prefixes: Sequence[str] = RUN_PREFIXES, rounds: int = 20) -> list[str]:
    """Run the queued tasks named by ``prefixes`` as the worker would, in order, until none is
    left (what they queue runs too). Other tasks of notices and notifications wait for a later
    call; the rest (the recommender's) are dropped. Returns the names run."""
    ran: list[str] = []
    for _round in range(rounds):
        OutboxTask.objects.exclude(_named(RUN_PREFIXES)).delete()
        queued = list(OutboxTask.objects.filter(_named(prefixes)).order_by("id"))
        if not queued:
            return ran
        OutboxTask.objects.filter(pk__in=[task.pk for task in queued]).delete()
        for task in queued:
            app.tasks[task.task_name].apply(kwargs=task.kwargs).get()
            ran.append(task.task_name)
    raise AssertionError("the tasks kept queueing more tasks")


def _named(prefixes: Sequence[str]) -> Q:
    named = Q(pk__in=[])
    for prefix in prefixes:
        named |= Q(task_name__startswith=prefix)
    return named


@pytest.fixture
def worker_tasks() -> Callable[..., list[str]]:
    return run_worker_tasks
