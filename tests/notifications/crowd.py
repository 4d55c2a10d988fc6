"""Many residents who asked for warnings by email, written in bulk: for the fault tests and the
fan-out benchmark (benchmarks/bench_notifications.py).

Each gets an account with a verified address, a home in ``area``, consent for "disaster
warnings for my areas" to use their places, and notification preferences (warnings by email).
The consent states copy one real grant made through the ledger (the consent flow is tested
elsewhere; here it is test data), written as the tables' owner could, with the ledger's
triggers off on PostgreSQL. COPY on PostgreSQL, bulk_create elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from allauth.account.models import EmailAddress
from django.db import connection
from django.utils import timezone

from consent.catalogue import Category, PurposeCode
from consent.models import ConsentState, DataCategory, Purpose
from consent.selectors import current_terms
from consent.services import Actor, consent_grant
from portal.models import Area, ResidentPlace, User
from portal.notifications.models import Delivery, DeliveryStatus, NotificationPreference
from tests.bulk import insert


def residents_wanting_warnings(n: int, area: Area, *, prefix: str = "crowd-") -> list[int]:
    """``n`` residents living in ``area`` who asked for warnings by email; their ids."""
    now = timezone.now()
    insert(User, [User(email=f"{prefix}{i}@example.jp", password="!") for i in range(n)])
    ids = list(
        User.objects.filter(email__startswith=prefix).order_by("id").values_list("id", flat=True)
    )
    insert(
        EmailAddress,
        [
            EmailAddress(user_id=i, email=f"{prefix}{k}@example.jp", verified=True, primary=True)
            for k, i in enumerate(ids)
        ],
    )
    terms = current_terms(purpose_code=PurposeCode.DISASTER_WARNINGS)
    assert terms is not None
    first = User.objects.get(pk=ids[0])
    event = consent_grant(
        resident=first,
        terms_id=terms.pk,
        category_codes=[Category.PLACES],
        actor=Actor.resident(first),
    )
    purpose = Purpose.objects.get(code=PurposeCode.DISASTER_WARNINGS)
    places = DataCategory.objects.get(code=Category.PLACES)
    with _triggers_off(ConsentState._meta.db_table):
        insert(
            ConsentState,
            [
                ConsentState(
                    resident_id=i,
                    purpose=purpose,
                    category=places,
                    status="granted",
                    terms=terms,
                    event=event,
                    changed_at=now,
                )
                for i in ids[1:]
            ],
        )
    insert(
        ResidentPlace,
        [ResidentPlace(resident_id=i, kind="home", area=area, created_at=now) for i in ids],
    )
    insert(
        NotificationPreference,
        [
            NotificationPreference(resident_id=i, channels=["email"], warnings=True, updated_at=now)
            for i in ids
        ],
    )
    return ids


def every_row_sent(count: int) -> bool:
    """Whether the outbox holds ``count`` rows, all of them sent."""
    return (
        Delivery.objects.count() == count
        and not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()
    )


def sent_message_ids() -> set[str]:
    return set(Delivery.objects.values_list("provider_id", flat=True))


@contextmanager
def _triggers_off(table: str) -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        try:
            yield
        finally:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
