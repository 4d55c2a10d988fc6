"""Staff see which model ranks the residents' home pages, and how the latest versions did on
held-out interactions (the staff console)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from recommendations.models import ModelVersion
from tests.factories import StaffFactory
from tests.helpers import log_in_with_mfa, with_totp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_pages")]


def console(client) -> str:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["consent_officer"])))
    return client.get("/staff/").content.decode()


def test_before_any_model_the_console_says_the_prior_ranks(client) -> None:
    assert "ranked by the prior" in console(client)


def test_the_console_names_the_active_version_and_one_that_was_not_promoted(client) -> None:
    now = timezone.now()
    ModelVersion.objects.create(
        is_active=True,
        promoted_at=now,
        trained_from=now,
        trained_to=now,
        training_pairs=800,
        metrics={"auc_new": 0.61234, "auc_current": 0.58},
        note="promoted: held-out AUC 0.6123 against 0.5800 of the prior",
    )
    ModelVersion.objects.create(
        training_pairs=900, metrics={"auc_new": 0.6, "auc_current": 0.61234}
    )

    html = console(client)

    assert "ranks the notices" in html and "0.6123" in html
    assert "in use" in html and "not promoted" in html
