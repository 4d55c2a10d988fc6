"""The codes JMA and CAP authorities use for the portal's municipalities, and the 会津
seismic region JMA groups them into; ``area_codes_load`` writes them into the city's table
(``feeds.AreaCode``), which the city may then edit in the admin.

A municipality area's code is its 6-digit 全国地方公共団体コード (072028 会津若松市). JMA names it
by the first five digits and "00" (0720200), CAP geocodes by the five (valueName JIS) or the six
(valueName LGCode). 震度速報 reports intensity by seismic region (252 福島県会津), not by city.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from portal.feeds.models import AreaCode
from portal.models import Area


@dataclass(frozen=True)
class Region:
    scheme: str
    code: str
    name: str
    # 5-digit JIS codes of the municipalities it groups
    municipalities: tuple[str, ...]


# JMA's 二次細分区域 of 会津, by their municipalities' JIS codes.
AIZU_NORTH = ("07208", "07402", "07405", "07407", "07408")
AIZU_CENTRAL = ("07202", "07421", "07422", "07423", "07444", "07445", "07446", "07447")
AIZU_SOUTH = ("07362", "07364", "07367", "07368")

# Warnings name every municipality, so their regions (会津北部 070031…) are not mapped: a
# warning for 会津若松市 must not reach all of 会津中部. 震度速報 names only seismic regions.
REGIONS = (Region("jma", "252", "福島県会津", AIZU_NORTH + AIZU_CENTRAL + AIZU_SOUTH),)


def area_codes_load(*, regions: Iterable[Region] = REGIONS) -> int:
    """Map every municipality the portal knows, and the regions above, to its areas; codes
    already in the table are left as the city edited them. Returns the rows added."""
    municipalities = {
        area.code[:5]: area
        for area in Area.objects.filter(kind=Area.Kind.MUNICIPALITY)
        if len(area.code) == 6 and area.code.isdigit()
    }
    written = 0
    with transaction.atomic():
        for jis5, area in municipalities.items():
            for scheme, code in (
                ("jma", f"{jis5}00"),
                ("cap:JIS", jis5),
                ("cap:LGCode", area.code),
            ):
                written += _map(scheme, code, area.name_ja, [area])
        for region in regions:
            areas = [municipalities[m] for m in region.municipalities if m in municipalities]
            if areas:
                written += _map(region.scheme, region.code, region.name, areas)
    return written


def _map(scheme: str, code: str, name: str, areas: list[Area]) -> int:
    """A code already in the table is the city's to edit: it is left as it is."""
    row, created = AreaCode.objects.get_or_create(scheme=scheme, code=code, defaults={"name": name})
    if not created:
        return 0
    row.areas.add(*areas)
    return 1
