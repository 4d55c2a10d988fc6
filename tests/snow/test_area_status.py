"""Each area's "last plowed" is when a working plow last passed near its point: computed by the
worker from the positions received since its last pass, only ever moving forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.snow.models import AreaPlowStatus
from portal.snow.passes import areas_passed
from portal.snow.positions import Fix
from portal.snow.services import area_status_update, positions_record, vehicle_add
from tests.factories import DistrictFactory, MunicipalityFactory

NOW = datetime(2026, 12, 3, 20, 40, tzinfo=UTC)
KITAAIZU = (37.492263, 139.873312)
KAKUJO = (37.4878, 139.9297)  # about 5 km east


def test_a_fix_within_the_radius_passes_the_area_and_one_outside_does_not() -> None:
    # 100 m and 300 m north of the point.
    near = (1, NOW, KITAAIZU[0] + 0.0009, KITAAIZU[1])
    far = (2, NOW + timedelta(minutes=1), KITAAIZU[0] + 0.0027, KITAAIZU[1])

    passed = areas_passed(area_ids=[7], area_points=[KITAAIZU], fixes=[near, far], radius_m=150)

    assert [(p.area_id, p.at, p.vehicle_id) for p in passed] == [(7, NOW, 1)]


def test_the_latest_fix_near_an_area_wins_across_blocks_of_fixes() -> None:
    fixes = [(1, NOW + timedelta(seconds=i), *KITAAIZU) for i in range(5000)]

    passed = areas_passed(
        area_ids=[1, 2], area_points=[KITAAIZU, KAKUJO], fixes=fixes, radius_m=150
    )

    assert [(p.area_id, p.at) for p in passed] == [(1, NOW + timedelta(seconds=4999))]


@pytest.mark.django_db
class TestTheWorkersPass:
    @pytest.fixture(autouse=True)
    def areas(self) -> None:
        city = MunicipalityFactory.create(code="072028", latitude=37.4948, longitude=139.9298)
        self.kitaaizu = DistrictFactory.create(
            parent=city, code="072028-kitaaizu", latitude=KITAAIZU[0], longitude=KITAAIZU[1]
        )
        self.vehicle = vehicle_add(name="除雪1号")

    def record(self, *fixes: Fix) -> None:
        positions_record(vehicle_id=self.vehicle.pk, fixes=list(fixes))

    def test_a_working_plow_passing_an_area_sets_its_last_plowed_time(self) -> None:
        with time_machine.travel(NOW, tick=False):
            self.record(Fix(NOW - timedelta(seconds=20), *KITAAIZU, working=True))
            area_status_update()

        status = AreaPlowStatus.objects.get(area=self.kitaaizu)
        assert status.last_plowed_at == NOW - timedelta(seconds=20)
        assert status.vehicle_id == self.vehicle.pk

    def test_a_plow_driving_with_its_blade_up_plows_nothing(self) -> None:
        with time_machine.travel(NOW, tick=False):
            self.record(Fix(NOW - timedelta(seconds=20), *KITAAIZU, working=False))
            area_status_update()

        assert not AreaPlowStatus.objects.exists()

    def test_running_the_pass_again_changes_nothing(self) -> None:
        with time_machine.travel(NOW, tick=False):
            self.record(Fix(NOW - timedelta(seconds=20), *KITAAIZU, working=True))
            first = area_status_update()
            second = area_status_update()

        assert (first, second) == (1, 0)

    def test_an_older_fix_received_late_does_not_move_the_time_back(self) -> None:
        with time_machine.travel(NOW, tick=False):
            self.record(Fix(NOW - timedelta(seconds=20), *KITAAIZU, working=True))
            area_status_update()
        with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
            self.record(Fix(NOW - timedelta(minutes=30), *KITAAIZU, working=True))
            area_status_update()

        status = AreaPlowStatus.objects.get(area=self.kitaaizu)
        assert status.last_plowed_at == NOW - timedelta(seconds=20)

    def test_a_later_pass_moves_the_time_on(self) -> None:
        with time_machine.travel(NOW, tick=False):
            self.record(Fix(NOW - timedelta(seconds=20), *KITAAIZU, working=True))
            area_status_update()
        later = NOW + timedelta(minutes=10)
        with time_machine.travel(later, tick=False):
            self.record(Fix(later - timedelta(seconds=5), *KITAAIZU, working=True))
            area_status_update()

        assert AreaPlowStatus.objects.get().last_plowed_at == later - timedelta(seconds=5)

    def test_a_later_pass_moves_the_status_update_time_on_too(self) -> None:
        with time_machine.travel(NOW, tick=False):
            self.record(Fix(NOW - timedelta(seconds=20), *KITAAIZU, working=True))
            area_status_update()
        later = NOW + timedelta(minutes=10)
        with time_machine.travel(later, tick=False):
            self.record(Fix(later - timedelta(seconds=5), *KITAAIZU, working=True))
            area_status_update()

        assert AreaPlowStatus.objects.get().updated_at == later
