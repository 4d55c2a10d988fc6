"""A warning's fan-out survives Redis being killed in the middle of it: the site stays up, and
once Redis is back every message is sent, once. Real processes (tests/resilience/conftest.py):
the site under gunicorn, a Celery worker and beat against a Redis of the test's own, and a real
SMTP server."""

from __future__ import annotations

import time

import pytest

from portal.infra import task_outbox
from portal.notices.services import notice_ingest
from portal.notifications.models import Delivery, DeliveryStatus
from tests.factories import DistrictFactory, MunicipalityFactory
from tests.mail_sink import message_ids
from tests.notifications.conftest import warning
from tests.notifications.crowd import (
    every_row_sent,
    residents_wanting_warnings,
    sent_message_ids,
)
from tests.resilience.processes import Browser, Site, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

RESIDENTS = 1000


def test_a_fan_out_cut_by_a_redis_restart_completes_once_redis_is_back(
    site: Site, own_redis, smtp_server, monkeypatch
) -> None:
    city = MunicipalityFactory.create(code="072028", name_ja="会津若松市")
    district = DistrictFactory.create(code="072028-kita", name_ja="北町", parent=city)
    residents_wanting_warnings(RESIDENTS, district)
    site.extra_env.update(
        {
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}",
            "NOTIFY_LEASE_SECONDS": "4",
            "NOTIFY_TASK_GRACE_SECONDS": "8",
            "NOTIFY_SWEEP_SECONDS": "1",
        }
    )
    site.start_web()
    site.start_worker()
    site.start_beat()
    # The warning's announcement waits in the task outbox for the site's beat to send it to the
    # site's Redis (this test process has a broker of its own).
    monkeypatch.setattr(task_outbox, "_send_now", lambda entry_id: None)

    notice_ingest(version=warning(area_ids=[district.pk]))
    mailbox = smtp_server.handler
    messages = mailbox.messages
    wait_for(lambda: len(messages) >= 100, timeout=120, what="the first messages to arrive")
    own_redis.kill()
    sent_when_cut = len(messages)

    page = Browser(site.url).get("/")
    assert page.status == 200
    assert page.seconds < 2
    time.sleep(3)
    assert Delivery.objects.exclude(status=DeliveryStatus.SENT).exists(), "it finished already"

    own_redis.start()
    try:
        wait_for(lambda: every_row_sent(RESIDENTS), timeout=240, what="every row to be sent")
    except AssertionError as error:
        raise AssertionError(site.logs()[-8000:]) from error

    received = message_ids(mailbox)
    assert len(received) == RESIDENTS
    assert set(received) == sent_message_ids()
    assert sum(received.values()) == RESIDENTS, "a message arrived twice"
    assert sent_when_cut < RESIDENTS
