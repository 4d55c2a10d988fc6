"""Review (attack): training reads every sharing resident's interaction history (and places, age,
household, interests) through the gate under the purpose "personalised home page" and the
scorer's reader name, "the ranking of the notices on your home page". What it makes is a model
that ranks every other resident's page, kept after the resident withdraws — a use the terms
("used only to rank the notices on your home page") do not name, and that the resident's
data-use log misdescribes.
"""

from __future__ import annotations

import pytest

from consent.models import DataUseEvent
from tests.recommendations.test_training import residents_with_history, train_now

pytestmark = pytest.mark.django_db


def test_the_data_use_log_tells_training_apart_from_ranking_the_residents_own_page() -> None:
    residents = residents_with_history(10)
    DataUseEvent.objects.all().delete()

    outcome = train_now()

    assert outcome.version is not None
    readers = set(
        DataUseEvent.objects.filter(resident=residents[0]).values_list("reader_name", flat=True)
    )
    assert readers, "training read the resident's data without a trace in their log"
    assert "the ranking of the notices on your home page" not in readers, readers
