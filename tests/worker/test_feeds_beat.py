"""Beat, on a real worker process, polls a due feed source on the ingest queue and its alert
becomes a published notice; the run is recorded for the staff page."""

from __future__ import annotations

import pytest
from django.utils import timezone

from portal.demo.feeds import todays_snow_warning
from portal.feeds.area_codes import area_codes_load
from portal.feeds.models import Kind, Run, Source
from portal.notices.models import Notice, Status
from tests.factories import MunicipalityFactory
from tests.feeds.server import feed_server
from tests.worker.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_beat_polls_a_due_source_and_its_alert_becomes_a_notice(start_worker) -> None:
    MunicipalityFactory.create(code="072028")
    area_codes_load()
    with feed_server() as server:
        url = server.serve("/alert.xml", todays_snow_warning(timezone.now()))
        Source.objects.create(name="会津若松市 防災", kind=Kind.CAP, url=url)

        worker = start_worker(beat=True, extra_env={"FEEDS_BEAT_SECONDS": "1"})

        wait_for(
            lambda: Notice.objects.filter(status=Status.PUBLISHED, source="cap").exists(),
            timeout=60,
            what=f"the alert to be ingested:\n{worker.log()}",
        )
    run = Run.objects.get(origin=Run.Origin.BEAT)
    assert (run.status, run.created) == (Run.Status.OK, 1)
    assert "feeds.poll_source" in worker.log()
