"""Two counters typing the same reference at the same moment (PostgreSQL row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from consent.flows import CounterRequest, counter_consent_record
from consent.models import ConsentEvent
from consent.services import ConsentError, paper_form_batch_issue
from tests.factories import StaffFactory, UserFactory
from tests.helpers import terms_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks"),
]


def test_one_reference_used_at_once_by_two_counters_records_once(monkeypatch) -> None:
    monkeypatch.setattr("consent.flows.send_counter_notice.apply_async", lambda **kw: None)
    officer = StaffFactory.create(roles=["consent_officer"])
    batch = paper_form_batch_issue(officer=officer, size=1, issued_to="Counter")
    reference = batch.forms.get().reference
    clerks = [StaffFactory.create(roles=["counter_clerk"]) for _ in range(2)]
    residents = [UserFactory.create() for _ in range(2)]
    terms = terms_of("disaster_warnings")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def use(i: int) -> None:
        try:
            barrier.wait()
            counter_consent_record(
                staff=clerks[i],
                request=CounterRequest(
                    paper_form_reference=reference,
                    email=residents[i].email,
                    terms=terms,
                    category_codes=["places"],
                    withdraw=False,
                ),
            )
            outcomes.append("ok")
        except ConsentError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=use, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"], connection.vendor
    assert ConsentEvent.objects.count() == 1
