"""While snow operations are active each plowed area has one live snow notice, kept through the
notices services; ending operations ends the notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from portal.notices.models import Notice, Status
from portal.notices.selectors import published_notices
from portal.snow.models import AreaPlowStatus, SnowOperations
from portal.snow.notices import snow_notices_refresh, snow_operations_set
from tests.factories import DistrictFactory, MunicipalityFactory, StaffFactory
from tests.helpers import log_in_with_mfa, with_totp

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 3, 20, 40, tzinfo=UTC)  # 05:40 in Japan


@pytest.fixture
def kitaaizu() -> Any:
    city = MunicipalityFactory.create(code="072028")
    district = DistrictFactory.create(
        parent=city, code="072028-kitaaizu", name_ja="北会津", name_en="Kitaaizu"
    )
    AreaPlowStatus.objects.create(area=district, last_plowed_at=NOW)
    return district


def test_no_snow_notice_is_written_while_operations_are_off(kitaaizu) -> None:
    with time_machine.travel(NOW, tick=False):
        assert snow_notices_refresh() == 0

    assert not Notice.objects.exists()


def test_an_active_operation_gives_a_plowed_area_one_live_snow_notice(kitaaizu) -> None:
    snow_operations_set(active=True)
    with time_machine.travel(NOW, tick=False):
        snow_notices_refresh()
        snow_notices_refresh()

        notice = published_notices().get()
    assert notice.title_ja == "北会津：最終除雪 12月4日 05:40"
    assert (notice.category, notice.source) == ("snow", "snow")
    assert list(notice.areas.all()) == [kitaaizu]


def test_a_later_pass_supersedes_the_notice_once_the_time_moved_on_enough(
    kitaaizu, settings
) -> None:
    settings.SNOW_NOTICE_MINUTES = 30
    snow_operations_set(active=True)
    with time_machine.travel(NOW, tick=False):
        snow_notices_refresh()
    for minutes, expected in ((10, 1), (45, 2)):
        AreaPlowStatus.objects.update(last_plowed_at=NOW + timedelta(minutes=minutes))
        with time_machine.travel(NOW + timedelta(minutes=minutes), tick=False):
            snow_notices_refresh()
        assert Notice.objects.count() == expected

    with time_machine.travel(NOW + timedelta(minutes=45), tick=False):
        live = published_notices().get()
    assert live.title_ja.endswith("06:25")
    assert Notice.objects.filter(status=Status.SUPERSEDED).count() == 1


def test_ending_operations_ends_every_snow_notice(kitaaizu) -> None:
    snow_operations_set(active=True)
    with time_machine.travel(NOW, tick=False):
        snow_notices_refresh()
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        ended = snow_operations_set(active=False)

    assert ended == 1
    assert Notice.objects.get().status == Status.EXPIRED
    assert not SnowOperations.current().active


def test_staff_switch_operations_on_and_off(client, kitaaizu) -> None:
    log_in_with_mfa(client, with_totp(StaffFactory.create(roles=["disaster_officer"])))

    client.post(reverse("snow_staff:operations"), {"active": "on"})
    assert SnowOperations.current().active
    client.post(reverse("snow_staff:operations"), {"active": "off"})
    assert not SnowOperations.current().active
