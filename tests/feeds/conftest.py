"""Areas of the Aizu region with the city's table of their feed codes, the copied sample
documents (tests/feeds/fixtures, with their licences), and a local feed server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from portal.feeds.area_codes import area_codes_load
from portal.feeds.models import AreaCode
from portal.models import Area
from tests.factories import DistrictFactory, MunicipalityFactory
from tests.feeds.server import FeedServer, feed_server

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


@pytest.fixture
def aizu() -> dict[str, Area]:
    """会津若松市 (with 北会津, whose point lies in the Aizu CAP alerts' polygon), 喜多方市, and
    the city's table of JMA and CAP codes for them."""
    city = MunicipalityFactory.create(code="072028", name_ja="会津若松市", name_en="Aizuwakamatsu")
    kitaaizu = DistrictFactory.create(
        code="072028-kitaaizu", parent=city, name_ja="北会津", latitude=37.4631, longitude=139.9262
    )
    tsuruga = DistrictFactory.create(
        code="072028-kakujo", parent=city, name_ja="鶴城", latitude=37.4878, longitude=139.9297
    )
    kitakata = MunicipalityFactory.create(code="072087", name_ja="喜多方市", name_en="Kitakata")
    area_codes_load()
    return {"city": city, "kitaaizu": kitaaizu, "kakujo": tsuruga, "kitakata": kitakata}


def map_code(scheme: str, code: str, area: Area) -> None:
    """The city maps one more code (as an administrator would in the admin)."""
    row, _created = AreaCode.objects.get_or_create(scheme=scheme, code=code)
    row.areas.add(area)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as running:
        yield running


@pytest.fixture
def snowstorm() -> Iterator[None]:
    """The clock of the Aizu CAP fixtures: 2026-01-18 08:00 in Japan, after the alert (17th,
    05:40), its update (16:15) and its cancellation (18th, 07:30), before any of them expires: a
    version dated ahead of the clock is refused."""
    with time_machine.travel(datetime(2026, 1, 18, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo")), tick=True):
        yield
