"""The notifications outbox with real worker processes and a real SMTP server: a worker killed
with SIGKILL in the middle of a warning's fan-out loses no message and sends none twice under
another identity; every outbox row ends sent."""

from __future__ import annotations

import pytest

from portal.models import Area
from portal.notices.services import notice_ingest
from tests.factories import DistrictFactory, MunicipalityFactory
from tests.mail_sink import message_ids
from tests.notifications.conftest import warning
from tests.notifications.crowd import (
    every_row_sent,
    residents_wanting_warnings,
    sent_message_ids,
)
from tests.worker.conftest import wait_for

pytestmark = [pytest.mark.worker]

RESIDENTS = 2000
# Short, so that the rows of the killed worker are taken for lost within seconds.
FAST_RECOVERY = {
    "NOTIFY_LEASE_SECONDS": "4",
    "NOTIFY_TASK_GRACE_SECONDS": "8",
    "NOTIFY_SWEEP_SECONDS": "1",
}


@pytest.fixture
def district() -> Area:
    city = MunicipalityFactory.create(code="072028", name_ja="会津若松市")
    return DistrictFactory.create(code="072028-kita", name_ja="北町", parent=city)


def test_a_worker_killed_mid_fan_out_loses_nothing_and_sends_nothing_twice(
    start_worker, smtp_server, district
) -> None:
    residents_wanting_warnings(RESIDENTS, district)
    environment = {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}", **FAST_RECOVERY}
    mailbox = smtp_server.handler
    first = start_worker("first", beat=True, extra_env=environment)

    notice_ingest(version=warning(area_ids=[district.pk]))
    wait_for(
        lambda: len(mailbox.messages) >= RESIDENTS // 5,
        timeout=120,
        what="a fifth of the messages to arrive",
    )
    first.kill_hard()
    arrived_before_the_kill = len(mailbox.messages)
    assert arrived_before_the_kill < RESIDENTS, "the worker finished before it could be killed"

    second = start_worker("second", beat=True, extra_env=environment)
    try:
        wait_for(lambda: every_row_sent(RESIDENTS), timeout=240, what="every row to be sent")
    except AssertionError as error:
        raise AssertionError(second.log()[-5000:]) from error

    received = message_ids(mailbox)
    # Every row's message arrived, under the row's own Message-ID, and nothing else did.
    assert set(received) == sent_message_ids()
    assert len(received) == RESIDENTS
    # A message can arrive twice (with its one Message-ID) only if the worker died between the
    # server's acceptance and the row's update: at most one per killed worker process.
    assert sum(received.values()) - len(received) <= 1
