"""The JMA 防災情報XML parser: real and official documents in, items or a refusal out.

Pure tests: no database, no network. The fixtures are JMA's own samples and real telegrams
(tests/feeds/fixtures/jmaxml/ATTRIBUTION.md says where each comes from).
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.feeds.parsing.documents import AreaRef, DocumentRefused, Item, ItemAction
from portal.feeds.parsing.jmaxml import parse_jma_atom_feed, parse_jmaxml

FIXTURES = Path(__file__).parent / "fixtures" / "jmaxml"
AIZUWAKAMATSU = "0720200"
FUKUSHIMA_VPWW53 = "real_fukushima_shirasagi/2b441518-4e79-342c-a271-7c25597f3a69.xml"
FUKUSHIMA_VPWW50 = "real_fukushima_shirasagi/afeedc52-107a-3d1d-9196-b108234d6e0f.xml"
ATOM_FEED = "real_fukushima_shirasagi/jma_atom_feed_extra_fukushima_2016-03-10.xml"
QUAKE_2011 = "jma_official_samples/32-39_11_05_240613_VXSE53.xml"
QUAKE_2008 = "jma_official_samples/32-35_06_03_240613_VXSE53.xml"
QUAKE_2008_CANCELLED_HYPOCENTRE = "jma_official_samples/32-35_06_02_100915_VXSE52.xml"
FLASH_2011 = "jma_official_samples/32-39_11_01_120615_VXSE51.xml"
TSUNAMI_2011 = "jma_official_samples/32-39_11_02_250206_VTSE41.xml"
TSUNAMI_2023 = "real_p2pquake/20231009074440_07748424_VTSE41.xml"
LANDSLIDE_ISSUED = "jma_official_samples/17_02_01_190529_VXWW50.xml"
LANDSLIDE_EXTENDED = "jma_official_samples/17_02_02_190529_VXWW50.xml"
LANDSLIDE_ALL_CLEAR = "jma_official_samples/17_02_03_190529_VXWW50.xml"
LANDSLIDE_2026 = "jma_official_samples/17_04_01_250630_VXWW50.xml"
RIVER_LEVEL_2 = "jma_official_samples/16_01_01_220728_VXKOii.xml"
RIVER_LEVEL_3 = "jma_official_samples/16_02_01_220728_VXKOii.xml"
RIVER_LEVEL_3_WITHOUT_BODY = "jma_official_samples/16_05_01_210630_VXKOii.xml"
RIVER_LEVEL_4 = "jma_official_samples/16_07_01_220728_VXKOii.xml"
# The samples' placeholder municipality code (○○市, △△市…).
SAMPLE_CITY = "0000000"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def only_item(data: bytes, area_codes: set[str] | None = None) -> Item:
    document = parse_jmaxml(data, area_codes=area_codes)
    assert len(document.items) == 1
    return document.items[0]


def refusal(data: bytes, area_codes: set[str] | None = None) -> str:
    with pytest.raises(DocumentRefused) as refused:
        parse_jmaxml(data, area_codes=area_codes)
    return refused.value.reason


def replaced(data: bytes, old: str, new: str, count: int = 0) -> bytes:
    text = data.decode()
    assert old in text
    return (text.replace(old, new, count) if count else text.replace(old, new)).encode()


def fukushima_warning_with(*kinds: tuple[str, str]) -> bytes:
    """The real Fukushima report, with ``kinds`` (name, status) for 会津若松市 instead of
    「発表警報・注意報はなし」."""
    kind_xml = "".join(
        f"<Kind><Name>{name}</Name><Status>{status}</Status></Kind>" for name, status in kinds
    )
    text, count = re.subn(
        r"<Kind>\s*<Status>発表警報・注意報はなし</Status>\s*</Kind>(\s*<Area>\s*<Name>会津若松市<)",
        lambda match: kind_xml + match.group(1),
        fixture(FUKUSHIMA_VPWW53).decode(),
    )
    assert count == 1
    return text.encode()


# ---------------------------------------------------------------------------------------------
# Every fixture: parsed into an item (action and urgency, every area reported) or refused


def unsupported(title: str) -> str:
    return f"refused: unsupported JMA information type: {title}"


OFFICIAL_SAMPLES = {
    "06_01_01_100514_VPTI50.xml": unsupported("全般台風情報"),
    "10_05_01_200826_VPTW60.xml": unsupported("台風解析・予報情報"),
    "15_01_01_091210_VPWW50.xml": "issue advisory",
    "15_08_01_130412_VPWW53.xml": "issue emergency",
    "15_10_02_130906_VPWW50.xml": "issue warning",
    "15_11_01_150916_VPWW54.xml": "issue warning",
    "15_14_01_170216_VPWW54.xml": "issue emergency",
    "15_15_01_220314_VPWW54.xml": "issue warning",
    "15_16_02_250630_VPWW57.xml": "issue warning",
    "15_16_04_250630_VPWW58.xml": "issue warning",
    "15_16_05_241226_VPWW59.xml": "issue warning",
    "15_16_06_241226_VPWW60.xml": "issue warning",
    "15_16_07_250630_VPWW61.xml": "issue advisory",
    "15_17_01_250123_VPWW54.xml": "issue warning",
    "15_17_01_250630_VPWW55.xml": "issue warning",
    "15_17_01_250630_VPWW56.xml": "issue warning",
    "16_01_01_220728_VXKOii.xml": "issue advisory",
    "16_02_01_220728_VXKOii.xml": "issue advisory",
    "16_05_01_210630_VXKOii.xml": "refused: names no municipality that may flood",
    "16_07_01_220728_VXKOii.xml": "issue warning",
    "17_01_01_190529_VXWW50.xml": "issue warning",
    "17_02_01_190529_VXWW50.xml": "issue warning",
    "17_02_02_190529_VXWW50.xml": "issue warning",
    "17_02_03_190529_VXWW50.xml": "lift information",
    "17_04_01_250630_VXWW50.xml": "issue warning",
    "18_01_01_100806_VPOA50.xml": unsupported("記録的短時間大雨情報"),
    "18_03_01_190412_VPOA50.xml": unsupported("記録的短時間大雨情報"),
    "19_01_01_091210_VPHW50.xml": unsupported("竜巻注意情報"),
    "19_04_01_140425_VPHW51.xml": unsupported("竜巻注意情報（目撃情報付き）"),
    "20_01_01_100514_VPZJ50.xml": unsupported("全般気象情報"),
    "22_02_02_160628_VPFJ50.xml": unsupported("府県気象情報"),
    "24_11_01_190925_VPFD51.xml": unsupported("府県天気予報"),
    "32-35_01_01_100806_VXSE51.xml": "issue emergency",
    "32-35_06_02_100915_VXSE52.xml": "cancel information",
    "32-35_06_03_240613_VXSE53.xml": "issue emergency",
    "32-35_08_04_100915_VXSE51.xml": "issue advisory",
    "32-35_08_07_240613_VXSE53.xml": "issue advisory",
    "32-35_09_01_191111_VXSE56.xml": unsupported("地震の活動状況等に関する情報"),
    "32-39_05_01_100831_VXSE53.xml": "refused: names no area with an observed seismic",
    "32-39_11_01_120615_VXSE51.xml": "issue emergency",
    "32-39_11_02_250206_VTSE41.xml": "issue emergency",
    "32-39_11_03_250206_VTSE51.xml": unsupported("津波情報a"),
    "32-39_11_05_240613_VXSE53.xml": "issue emergency",
    "37_01_01_240613_VXSE43.xml": unsupported("緊急地震速報（警報）"),
    "45_01_01_200522_VFVO50.xml": unsupported("噴火警報・予報"),
    "62_01_01_130412_VPNO50.xml": unsupported("気象特別警報報知"),
    "62_02_01_130906_VPNO50.xml": unsupported("気象特別警報報知"),
    "68_01_01_220831_VPFD60.xml": unsupported("警報級の可能性"),
    "72_01_01_190327_VPAW51.xml": unsupported("早期天候情報"),
    "73_03_01_220210_VPRN50.xml": unsupported("大雨危険度通知"),
    "81_01_04_250630_VPWP50.xml": unsupported("気象警報・注意報時系列情報"),
    "82_01_01_241031_VPBS50.xml": unsupported("府県気象防災速報"),
}
REAL_P2PQUAKE = {
    "20210216221043_0_VXSE53_010000.xml": "refused: intensity below 3 in every area",
    "20210217140958_0_VXSE53_010000.xml": "issue information",
    "20210219010859_0_VXSE51_010000.xml": "issue information",
    "20210219010945_0_VXSE52_010000.xml": unsupported("震源に関する情報"),
    "20210219011051_0_VXSE53_010000.xml": "issue information",
    "20230410231623_04156158_VXSE53.xml": "refused: names no area with an observed seismic",
    "20231009074440_07748424_VTSE41.xml": "issue advisory",
    "20240116184225_02245216_VXSE43.xml": unsupported("緊急地震速報（警報）"),
}
EXPECTED_OUTCOMES = {
    "ATTRIBUTION.md": "refused: not well-formed XML",
    "CATALOG.tsv": "refused: not well-formed XML",
    FUKUSHIMA_VPWW53: "lift information",
    FUKUSHIMA_VPWW50: "lift information",
    ATOM_FEED: "refused: not a JMA 防災情報XML report (root {http://www.w3.org/2005/Atom}feed)",
    **{f"jma_official_samples/{name}": outcome for name, outcome in OFFICIAL_SAMPLES.items()},
    **{f"real_p2pquake/{name}": outcome for name, outcome in REAL_P2PQUAKE.items()},
}


def fixture_files() -> list[str]:
    return sorted(
        path.relative_to(FIXTURES).as_posix() for path in FIXTURES.rglob("*") if path.is_file()
    )


def test_the_outcome_table_names_every_fixture_file() -> None:
    assert sorted(EXPECTED_OUTCOMES) == fixture_files()


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED_OUTCOMES.items()))
def test_every_fixture_is_parsed_into_an_item_or_refused_with_a_reason(
    name: str, expected: str
) -> None:
    data = fixture(name)
    if expected.startswith("refused: "):
        assert expected.removeprefix("refused: ") in refusal(data)
    else:
        item = only_item(data)
        assert f"{item.action.value} {item.urgency}" == expected
        assert item.category == "disaster"
        assert item.title_ja
        assert len(item.series) <= 200
        assert len(item.version_id) <= 300
        assert item.version_at.tzinfo is not None
        assert item.expires_at is None


# ---------------------------------------------------------------------------------------------
# Weather warnings: the two real Fukushima reports of 2016-03-10


def test_a_report_that_says_nothing_is_in_force_for_the_city_is_a_lift() -> None:
    """会津若松市 is 「発表警報・注意報はなし」 in the real report: whatever the city's notice
    said, it is over, so the report ends it (a LIFT) rather than being refused."""
    item = only_item(fixture(FUKUSHIMA_VPWW53), {AIZUWAKAMATSU})

    assert item.action is ItemAction.LIFT
    assert item.urgency == "information"
    assert item.areas == (AreaRef("jma", AIZUWAKAMATSU, "会津若松市"),)
    assert item.title_ja == "会津若松市に発表中の気象警報・注意報はありません"
    assert item.title_en == "No weather warnings or advisories in force: Aizuwakamatsu"


def test_a_lifted_warning_for_every_configured_area_is_a_lift() -> None:
    item = only_item(fixture(FUKUSHIMA_VPWW53), {"0720400"})

    assert item.action is ItemAction.LIFT
    assert item.urgency == "information"
    assert item.title_ja == "いわき市の強風注意報・波浪注意報は解除されました"
    assert "いわき市：強風注意報、波浪注意報 解除" in item.body_ja


def test_a_lift_is_titled_by_where_something_was_lifted_and_keeps_every_configured_area() -> None:
    item = only_item(fixture(FUKUSHIMA_VPWW53), {AIZUWAKAMATSU, "0720400"})

    assert item.action is ItemAction.LIFT
    assert item.title_ja == "いわき市の強風注意報・波浪注意報は解除されました"
    assert [area.code for area in item.areas] == [AIZUWAKAMATSU, "0720400"]


def test_both_real_fukushima_reports_lift_their_own_series_at_the_same_time() -> None:
    special = only_item(fixture(FUKUSHIMA_VPWW53), {AIZUWAKAMATSU})
    ordinary = only_item(fixture(FUKUSHIMA_VPWW50), {AIZUWAKAMATSU})

    assert special.series != ordinary.series
    assert special.series.startswith("jma:気象特別警報・警報・注意報:福島地方気象台:通常")
    assert special.version_at == ordinary.version_at == datetime(2016, 3, 10, 9, 22, 41, tzinfo=UTC)
    assert special.version_id == f"{special.series}@2016-03-10T09:22:41+00:00"


def test_the_body_has_the_headline_a_line_per_area_and_who_issued_it() -> None:
    item = only_item(fixture(FUKUSHIMA_VPWW53), {AIZUWAKAMATSU, "070030"})

    assert item.body_ja == (
        "注意報を解除します。\n\n"
        "- 会津：発表中の気象警報・注意報なし\n"
        "- 会津若松市：発表中の気象警報・注意報なし\n\n"
        "発表：福島地方気象台（2016年3月10日 18時22分）"
    )


def test_a_warning_in_force_in_the_city_is_a_warning_with_a_title_residents_understand() -> None:
    item = only_item(fukushima_warning_with(("大雪警報", "発表")), {AIZUWAKAMATSU})

    assert item.action is ItemAction.ISSUE
    assert item.urgency == "warning"
    assert item.title_ja == "会津若松市に大雪警報"
    assert item.title_en == "Heavy snow warning: Aizuwakamatsu"
    assert "- 会津若松市：大雪警報" in item.body_ja
    assert "- Aizuwakamatsu: Heavy snow warning" in item.body_en


def test_advisories_only_are_an_advisory() -> None:
    data = fukushima_warning_with(("なだれ注意報", "発表"), ("着雪注意報", "継続"))
    item = only_item(data, {AIZUWAKAMATSU})

    assert item.urgency == "advisory"
    assert item.title_ja == "会津若松市になだれ注意報・着雪注意報"


def test_a_special_warning_among_others_makes_an_emergency_and_comes_first_in_the_title() -> None:
    data = fukushima_warning_with(("なだれ注意報", "継続"), ("大雪特別警報", "発表"))
    item = only_item(data, {AIZUWAKAMATSU})

    assert item.urgency == "emergency"
    assert item.title_ja == "会津若松市に大雪特別警報・なだれ注意報"


def test_a_warning_changed_to_an_advisory_names_the_advisory_in_force() -> None:
    item = only_item(fukushima_warning_with(("大雪注意報", "警報から注意報")), {AIZUWAKAMATSU})

    assert item.urgency == "advisory"
    assert item.title_ja == "会津若松市に大雪注意報"


def test_only_the_configured_areas_in_force_make_the_item() -> None:
    data = fukushima_warning_with(("大雪警報", "発表"))
    item = only_item(data, {AIZUWAKAMATSU, "0720800", "0720400"})

    assert item.areas == (AreaRef("jma", AIZUWAKAMATSU, "会津若松市"),)
    assert "喜多方市" not in item.body_ja
    assert "いわき市" not in item.body_ja


def test_a_report_about_other_areas_is_refused_naming_some_of_its_areas() -> None:
    reason = refusal(fixture("jma_official_samples/15_08_01_130412_VPWW53.xml"), {AIZUWAKAMATSU})

    assert reason.startswith("concerns none of the configured areas (it names: 2920100 奈良市, ")
    assert reason.count(", ") == 9
    assert "in all" in reason


def test_a_special_warning_in_an_official_vpww54_sample_is_an_emergency() -> None:
    data = fixture("jma_official_samples/15_14_01_170216_VPWW54.xml")
    item = only_item(data, {"1310400", "1311800"})

    assert item.urgency == "emergency"
    assert item.title_ja == "新宿区・荒川区に大雨特別警報・大雨警報・洪水警報"
    assert item.areas == (AreaRef("jma", "1310400", "新宿区"), AreaRef("jma", "1311800", "荒川区"))
    assert "- 新宿区：大雨特別警報\n- 荒川区：大雨警報、洪水警報" in item.body_ja


def test_a_storm_surge_warning_in_an_official_vpww54_sample_is_a_warning() -> None:
    item = only_item(fixture("jma_official_samples/15_15_01_220314_VPWW54.xml"), {"3640300"})

    assert item.urgency == "warning"
    assert item.title_ja == "藍住町に高潮警報"
    assert item.title_en == ""  # 藍住町 has no English name in the table


# ---------------------------------------------------------------------------------------------
# The 2026 format: VPWW55–61


def test_a_2026_level_3_heavy_rain_warning_is_a_warning() -> None:
    item = only_item(fixture("jma_official_samples/15_17_01_250630_VPWW55.xml"), {"3220100"})

    assert item.urgency == "warning"
    assert item.title_ja == "松江市にレベル３大雨警報"
    assert item.series == "jma:気象警報・注意報（Ｒ０６）（大雨）:松江地方気象台:通常"


def test_a_2026_danger_warning_is_a_warning() -> None:
    item = only_item(fixture("jma_official_samples/15_16_02_250630_VPWW57.xml"), {"2620200"})

    assert item.urgency == "warning"
    assert item.title_ja == "舞鶴市にレベル４高潮危険警報"


def test_a_2026_landslide_danger_warning_is_a_warning() -> None:
    data = fixture("jma_official_samples/15_17_01_250630_VPWW56.xml")
    document = parse_jmaxml(data)

    assert document.items[0].urgency == "warning"
    assert "レベル４土砂災害危険警報" in document.items[0].title_ja


def test_a_2026_level_5_special_warning_is_an_emergency() -> None:
    data = replaced(
        fixture("jma_official_samples/15_17_01_250630_VPWW55.xml"),
        "レベル３大雨警報",
        "レベル５大雨特別警報",
    )
    item = only_item(data, {"3220100"})

    assert item.urgency == "emergency"
    assert item.title_ja == "松江市にレベル５大雨特別警報"


@pytest.mark.parametrize(
    ("name", "code", "title"),
    [
        ("15_16_04_250630_VPWW58.xml", "0121400", "稚内市に暴風警報"),
        ("15_16_05_241226_VPWW59.xml", "0121400", "稚内市に波浪警報"),
        ("15_16_06_241226_VPWW60.xml", "0121400", "稚内市に大雪警報"),
    ],
)
def test_the_2026_phenomenon_warnings_name_their_kind(name: str, code: str, title: str) -> None:
    item = only_item(fixture(f"jma_official_samples/{name}"), {code})

    assert item.urgency == "warning"
    assert item.title_ja == title


def test_the_2026_other_advisories_are_an_advisory() -> None:
    item = only_item(fixture("jma_official_samples/15_16_07_250630_VPWW61.xml"), {"0121400"})

    assert item.urgency == "advisory"
    assert item.title_ja == "稚内市に雷注意報"


def test_each_2026_phenomenon_is_a_series_of_its_own() -> None:
    rain = only_item(fixture("jma_official_samples/15_17_01_250630_VPWW55.xml"))
    landslide = only_item(fixture("jma_official_samples/15_17_01_250630_VPWW56.xml"))

    assert rain.series != landslide.series


def test_a_2026_lifted_advisory_is_a_lift_naming_the_advisory() -> None:
    item = only_item(fixture("jma_official_samples/15_17_01_250630_VPWW55.xml"), {"3252800"})

    assert item.action is ItemAction.LIFT
    assert item.title_ja == "隠岐の島町のレベル２大雨注意報は解除されました"


def test_a_2026_report_with_nothing_in_force_names_its_phenomenon() -> None:
    item = only_item(fixture("jma_official_samples/15_17_01_250630_VPWW55.xml"), {"3252500"})

    assert item.action is ItemAction.LIFT
    assert item.title_ja == "海士町に発表中の大雨の警報・注意報はありません"


# ---------------------------------------------------------------------------------------------
# 土砂災害警戒情報 (VXWW50)


def test_a_landslide_alert_in_force_is_a_warning() -> None:
    item = only_item(fixture(LANDSLIDE_ISSUED), {"0133100", "0120200"})

    assert item.action is ItemAction.ISSUE
    assert item.urgency == "warning"
    assert item.title_ja == "松前町に土砂災害警戒情報"
    assert item.title_en == ""
    assert item.areas == (AreaRef("jma", "0133100", "松前町"),)


def test_the_all_clear_of_a_landslide_alert_lifts_the_same_series_later() -> None:
    issued = only_item(fixture(LANDSLIDE_ISSUED), {"0133100"})
    extended = only_item(fixture(LANDSLIDE_EXTENDED), {"0133100"})
    all_clear = only_item(fixture(LANDSLIDE_ALL_CLEAR), {"0133100"})

    assert issued.series == extended.series == all_clear.series
    assert issued.version_at < extended.version_at < all_clear.version_at
    assert all_clear.action is ItemAction.LIFT
    assert all_clear.urgency == "information"
    assert all_clear.title_ja == "松前町の土砂災害警戒情報は解除されました"


def test_the_2026_landslide_alert_is_called_a_level_4_danger_warning() -> None:
    item = only_item(fixture(LANDSLIDE_2026), {"1420600"})

    assert item.urgency == "warning"
    assert item.title_ja == "小田原市にレベル４土砂災害危険警報"


# ---------------------------------------------------------------------------------------------
# 指定河川洪水予報 (VXKO)


@pytest.mark.parametrize(
    ("name", "urgency", "level"),
    [
        (RIVER_LEVEL_2, "advisory", "２"),
        (RIVER_LEVEL_3, "advisory", "３"),
        (RIVER_LEVEL_4, "warning", "４"),
    ],
)
def test_a_river_flood_forecast_is_as_urgent_as_its_alert_level(
    name: str, urgency: str, level: str
) -> None:
    item = only_item(fixture(name), {SAMPLE_CITY})

    assert item.urgency == urgency
    assert item.title_ja.endswith(f"（警戒レベル{level}相当）")


def test_a_flood_that_has_happened_is_an_emergency() -> None:
    data = replaced(fixture(RIVER_LEVEL_4), "氾濫危険情報", "氾濫発生情報")
    item = only_item(replaced(data, "<Code>40</Code>", "<Code>50</Code>"), {SAMPLE_CITY})

    assert item.urgency == "emergency"


def test_a_river_flood_forecast_is_about_the_municipalities_that_may_flood() -> None:
    item = only_item(fixture(RIVER_LEVEL_4), {SAMPLE_CITY})

    assert [area.name for area in item.areas] == ["○○市", "△△市", "◇◇市", "□□市"]
    assert item.title_ja == "○○川上流氾濫危険情報（警戒レベル４相当）"
    assert "浸水のおそれ：○○市、△△市、◇◇市、□□市" in item.body_ja
    assert "【警戒レベル４相当】これは、避難指示の発令の目安です。" in item.body_ja


def test_a_river_flood_forecast_for_other_municipalities_is_refused() -> None:
    reason = refusal(fixture(RIVER_LEVEL_4), {AIZUWAKAMATSU})

    assert reason.startswith("concerns none of the configured areas (it names: 0000000 ○○市")


def test_a_river_flood_forecast_that_names_no_municipality_is_refused() -> None:
    assert "names no municipality" in refusal(fixture(RIVER_LEVEL_3_WITHOUT_BODY), {SAMPLE_CITY})


def test_a_lifted_river_flood_forecast_is_a_lift_even_without_municipalities() -> None:
    data = replaced(
        fixture(RIVER_LEVEL_3_WITHOUT_BODY), "氾濫警戒情報</Name>", "氾濫注意情報解除</Name>"
    )
    item = only_item(replaced(data, "<Code>30</Code>", "<Code>10</Code>"), {AIZUWAKAMATSU})

    assert item.action is ItemAction.LIFT
    assert item.urgency == "information"
    assert item.series == only_item(fixture(RIVER_LEVEL_4), {SAMPLE_CITY}).series


# ---------------------------------------------------------------------------------------------
# Earthquakes: VXSE51, VXSE52 取消, VXSE53


def test_the_2011_earthquake_shook_aizuwakamatsu_at_5_upper() -> None:
    item = only_item(fixture(QUAKE_2011), {AIZUWAKAMATSU})

    assert item.action is ItemAction.ISSUE
    assert item.urgency == "warning"
    assert item.title_ja == "福島県会津若松市で震度５強"
    assert item.title_en == "Earthquake, seismic intensity 5 upper: Aizuwakamatsu"
    assert item.areas == (AreaRef("jma", AIZUWAKAMATSU, "会津若松市"),)
    assert item.series == "jma:earthquake:通常:20110311144640"
    assert "震源：三陸沖" in item.body_ja
    assert "- 福島県会津若松市：震度５強" in item.body_ja


def test_the_2008_earthquake_shook_aizuwakamatsu_at_3() -> None:
    item = only_item(fixture(QUAKE_2008), {AIZUWAKAMATSU})

    assert item.urgency == "information"
    assert item.title_ja == "福島県会津若松市で震度３"
    assert "この地震による津波の心配はありません。" in item.body_ja


def test_several_configured_areas_are_titled_by_the_strongest_intensity() -> None:
    item = only_item(fixture(QUAKE_2011), {AIZUWAKAMATSU, "252"})

    assert item.urgency == "emergency"
    assert item.title_ja == "福島県会津・福島県会津若松市で最大震度６弱"


@pytest.mark.parametrize(
    ("intensity", "urgency"),
    [("3", "information"), ("4", "advisory"), ("5-", "warning"), ("5+", "warning"),
     ("6-", "emergency"), ("6+", "emergency"), ("7", "emergency")],
)  # fmt: skip
def test_the_intensity_in_the_city_sets_the_urgency(intensity: str, urgency: str) -> None:
    data = replaced(
        fixture(QUAKE_2008),
        "<Code>0720200</Code><MaxInt>3</MaxInt>",
        f"<Code>0720200</Code><MaxInt>{intensity}</MaxInt>",
    )

    assert only_item(data, {AIZUWAKAMATSU}).urgency == urgency


def test_intensity_below_3_in_the_configured_areas_is_refused() -> None:
    data = replaced(
        fixture(QUAKE_2008),
        "<Code>0720200</Code><MaxInt>3</MaxInt>",
        "<Code>0720200</Code><MaxInt>2</MaxInt>",
    )

    assert refusal(data, {AIZUWAKAMATSU}) == "intensity below 3 in the configured areas"


def test_a_city_whose_stations_have_not_reported_strong_shaking_is_a_warning() -> None:
    data = replaced(
        fixture(QUAKE_2008),
        "<Code>0720200</Code><MaxInt>3</MaxInt>",
        "<Code>0720200</Code><Condition>震度５弱以上未入電</Condition>",
    )
    item = only_item(data, {AIZUWAKAMATSU})

    assert item.urgency == "warning"
    assert item.title_ja == "福島県会津若松市で震度５弱以上（未入電）"


def test_an_earthquake_that_did_not_reach_the_city_is_refused() -> None:
    data = fixture("jma_official_samples/32-35_08_07_240613_VXSE53.xml")

    assert "concerns none of the configured areas" in refusal(data, {AIZUWAKAMATSU})
    assert refusal(data, {"252"}) == "intensity below 3 in the configured areas"


def test_a_flash_intensity_report_is_matched_by_its_seismic_areas() -> None:
    """震度速報 names seismic areas only (252 福島県会津), never municipalities."""
    item = only_item(fixture(FLASH_2011), {"252"})

    assert item.urgency == "information"
    assert item.title_ja == "福島県会津で震度３"
    assert "concerns none" in refusal(fixture(FLASH_2011), {AIZUWAKAMATSU})


def test_the_full_earthquake_report_supersedes_the_flash_report() -> None:
    flash = only_item(fixture(FLASH_2011), {"252"})
    full = only_item(fixture(QUAKE_2011), {"252"})

    assert flash.series == full.series == "jma:earthquake:通常:20110311144640"
    assert flash.version_at < full.version_at
    assert flash.version_id != full.version_id


def test_a_cancelled_hypocentre_report_cancels_the_earthquake_series() -> None:
    cancelled = only_item(fixture(QUAKE_2008_CANCELLED_HYPOCENTRE), {AIZUWAKAMATSU})
    report = only_item(fixture(QUAKE_2008), {AIZUWAKAMATSU})

    assert cancelled.action is ItemAction.CANCEL
    assert cancelled.series == report.series
    assert cancelled.version_at > report.version_at
    assert cancelled.title_ja == "震源に関する情報は取り消されました"
    assert cancelled.areas == ()


def test_a_hypocentre_report_that_is_not_a_cancellation_is_refused() -> None:
    data = fixture("real_p2pquake/20210219010945_0_VXSE52_010000.xml")

    assert refusal(data) == "unsupported JMA information type: 震源に関する情報"


def test_a_cancelled_warning_withdraws_its_series_whatever_areas_are_configured() -> None:
    issued = only_item(fukushima_warning_with(("大雪警報", "発表")), {AIZUWAKAMATSU})
    data = replaced(
        fixture(FUKUSHIMA_VPWW53), "<InfoType>発表</InfoType>", "<InfoType>取消</InfoType>"
    )
    cancelled = only_item(data, {"9999999"})

    assert cancelled.action is ItemAction.CANCEL
    assert cancelled.series == issued.series
    assert cancelled.urgency == "information"
    assert cancelled.title_ja == "福島県気象警報・注意報は取り消されました"


def test_a_cancellation_of_an_unsupported_type_is_refused() -> None:
    data = replaced(fixture("jma_official_samples/18_01_01_100806_VPOA50.xml"), "発表", "取消", 1)

    assert "unsupported JMA information type" in refusal(data)


# ---------------------------------------------------------------------------------------------
# 津波警報・注意報・予報 (VTSE41)


def test_a_major_tsunami_warning_is_an_emergency() -> None:
    item = only_item(fixture(TSUNAMI_2011), {"250"})

    assert item.urgency == "emergency"
    assert item.title_ja == "福島県に大津波警報"
    assert item.series == "jma:津波警報・注意報・予報a:大阪管区気象台:通常:20110311144640"


@pytest.mark.parametrize(
    ("code", "urgency", "title"),
    [("101", "warning", "北海道太平洋沿岸中部に津波警報"),
     ("100", "advisory", "北海道太平洋沿岸東部に津波注意報")],
)  # fmt: skip
def test_tsunami_warnings_and_advisories_set_the_urgency(
    code: str, urgency: str, title: str
) -> None:
    item = only_item(fixture(TSUNAMI_2011), {code})

    assert item.urgency == urgency
    assert item.title_ja == title


def test_a_tsunami_forecast_is_information() -> None:
    item = only_item(fixture(TSUNAMI_2023), {"310"})

    assert item.action is ItemAction.ISSUE
    assert item.urgency == "information"
    assert item.title_ja == "千葉県九十九里・外房に津波予報（若干の海面変動）"


def test_a_lifted_tsunami_advisory_is_a_lift() -> None:
    data = replaced(
        fixture(TSUNAMI_2023),
        "<Kind><Name>津波注意報</Name><Code>62</Code></Kind>",
        "<Kind><Name>津波注意報解除</Name><Code>60</Code></Kind>",
    )
    item = only_item(data, {"320"})

    assert item.action is ItemAction.LIFT
    assert item.title_ja == "伊豆諸島の津波注意報は解除されました"


def test_an_inland_city_hears_of_no_tsunami() -> None:
    assert "concerns none" in refusal(fixture(TSUNAMI_2011), {AIZUWAKAMATSU, "070030"})


# ---------------------------------------------------------------------------------------------
# JMA's Atom feeds


def test_an_atom_feed_lists_its_documents_in_feed_order() -> None:
    document = parse_jma_atom_feed(fixture(ATOM_FEED))

    assert document.items == ()
    assert document.links == (
        "http://xml.kishou.go.jp/data/afeedc52-107a-3d1d-9196-b108234d6e0f.xml",
        "http://xml.kishou.go.jp/data/2b441518-4e79-342c-a271-7c25597f3a69.xml",
    )


def test_an_atom_feed_keeps_only_web_links_once() -> None:
    feed = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <entry><link href="javascript:alert(1)"/></entry>
  <entry><link href="file:///etc/passwd"/></entry>
  <entry><link href="https://xml.kishou.go.jp/data/a.xml" type="application/xml"/></entry>
  <entry><link href="https://xml.kishou.go.jp/data/a.xml"/></entry>
  <entry><link href="https://example.com/about" rel="related"/></entry>
  <entry><link/></entry>
</feed>"""

    assert parse_jma_atom_feed(feed).links == ("https://xml.kishou.go.jp/data/a.xml",)


def test_a_jma_report_is_not_an_atom_feed() -> None:
    with pytest.raises(DocumentRefused, match="not an Atom feed"):
        parse_jma_atom_feed(fixture(FUKUSHIMA_VPWW53))


def test_an_atom_feed_in_another_namespace_is_refused() -> None:
    data = replaced(fixture(ATOM_FEED), "http://www.w3.org/2005/Atom", "http://purl.org/rss/1.0/")

    with pytest.raises(DocumentRefused, match="not an Atom feed"):
        parse_jma_atom_feed(data)


# ---------------------------------------------------------------------------------------------
# Status, InfoType, series and versions


@pytest.mark.parametrize("status", ["訓練", "試験"])
def test_an_exercise_is_parsed_fully_and_kept_apart_from_real_reports(status: str) -> None:
    real = only_item(fixture(QUAKE_2011), {AIZUWAKAMATSU})
    data = replaced(fixture(QUAKE_2011), "<Status>通常</Status>", f"<Status>{status}</Status>")
    exercise = only_item(data, {AIZUWAKAMATSU})

    assert exercise.is_exercise
    assert not real.is_exercise
    assert exercise.urgency == real.urgency == "warning"
    assert exercise.series == f"jma:earthquake:{status}:20110311144640"
    assert exercise.title_ja == f"【{status}】福島県会津若松市で震度５強"


def test_a_correction_is_a_later_issue_of_the_same_series() -> None:
    issued = only_item(fixture(QUAKE_2011), {AIZUWAKAMATSU})
    data = replaced(fixture(QUAKE_2011), "<InfoType>発表</InfoType>", "<InfoType>訂正</InfoType>")
    corrected = only_item(
        replaced(data, "2011-03-11T05:54:", "2011-03-11T06:10:", 1), {AIZUWAKAMATSU}
    )

    assert corrected.action is ItemAction.ISSUE
    assert corrected.series == issued.series
    assert corrected.version_at > issued.version_at


def test_the_same_document_twice_has_the_same_version() -> None:
    first = only_item(fixture(QUAKE_2011), {AIZUWAKAMATSU})
    again = only_item(fixture(QUAKE_2011), {AIZUWAKAMATSU})

    assert first.version_id == again.version_id == f"{first.series}@2011-03-11T05:54:58+00:00"


def test_a_long_series_key_is_hashed_keeping_a_readable_prefix() -> None:
    long_id = "渡島・檜山地方" * 40
    data = replaced(
        fixture(LANDSLIDE_ISSUED),
        "渡島・檜山地方土砂災害警戒情報</EventID>",
        f"{long_id}</EventID>",
    )
    item = only_item(data, {"0133100"})

    assert len(item.series) == 200
    assert item.series.startswith("jma:土砂災害警戒情報:函館地方気象台:通常:渡島・檜山地方")
    assert re.search(r"#[0-9a-f]{32}$", item.series)
    assert len(item.version_id) <= 300


def test_an_offset_datetime_is_the_same_instant_as_utc() -> None:
    data = replaced(fixture(QUAKE_2011), "2011-03-11T05:54:58Z", "2011-03-11T14:54:58+09:00")

    assert only_item(data, {AIZUWAKAMATSU}).version_at == datetime(
        2011, 3, 11, 5, 54, 58, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("<Title>震源・震度に関する情報</Title>", "<Title></Title>", "missing Control/Title"),
        ("<DateTime>2011-03-11T05:54:58Z</DateTime>", "", "missing Control/DateTime"),
        ("2011-03-11T05:54:58Z", "2011-03-11 noon", "unparseable Control/DateTime"),
        ("2011-03-11T05:54:58Z", "2011-03-11T05:54:00", "Control/DateTime has no time zone"),
        ("<Status>通常</Status>", "<Status>本番</Status>", "unknown Control/Status"),
        ("<InfoType>発表</InfoType>", "<InfoType>遅延</InfoType>", "unsupported Head/InfoType"),
    ],
)
def test_a_report_with_a_broken_control_or_head_is_refused(old: str, new: str, reason: str) -> None:
    assert reason in refusal(replaced(fixture(QUAKE_2011), old, new, 1))


# ---------------------------------------------------------------------------------------------
# The text: Markdown that carries no HTML and stays short


def test_the_body_never_carries_html() -> None:
    data = replaced(
        fixture(FUKUSHIMA_VPWW53),
        "<Text>注意報を解除します。</Text>",
        "<Text>&lt;script&gt;alert(1)&lt;/script&gt;\n&lt;b&gt;注意&lt;/b&gt;</Text>",
    )
    item = only_item(data, {AIZUWAKAMATSU})

    assert "<" not in item.body_ja
    assert "＜script＞alert(1)＜/script＞" in item.body_ja


def test_the_body_of_a_report_about_hundreds_of_places_stays_short() -> None:
    item = only_item(fixture(QUAKE_2011))

    assert len(item.areas) > 900
    assert len(item.body_ja) <= 4000
    assert "ほか" in item.body_ja
    assert len(item.title_ja) <= 200


def test_a_very_long_headline_is_cut_but_never_who_issued_it() -> None:
    data = replaced(fixture(FUKUSHIMA_VPWW53), "注意報を解除します。", "注意" * 5000)
    item = only_item(data, {AIZUWAKAMATSU})

    assert len(item.body_ja) <= 4000
    assert item.body_ja.endswith("発表：福島地方気象台（2016年3月10日 18時22分）")


def test_the_english_body_lists_the_places_and_who_issued_it() -> None:
    item = only_item(fixture(QUAKE_2011), {AIZUWAKAMATSU})

    assert item.body_en == (
        "- Aizuwakamatsu: seismic intensity 5 upper\n\n"
        "Issued by the Japan Meteorological Agency (11 March 2011, 14:54 JST)"
    )


def test_places_without_an_english_name_make_no_english_text() -> None:
    item = only_item(fixture(QUAKE_2011), {"0420700"})

    assert item.title_ja.startswith("宮城県名取市で震度")
    assert item.title_en == ""
    assert item.body_en == ""


def test_the_summary_says_what_the_report_is() -> None:
    document = parse_jmaxml(fixture(FUKUSHIMA_VPWW53), area_codes={AIZUWAKAMATSU})

    assert document.source == "jma"
    assert (
        document.summary == "気象特別警報・警報・注意報 福島地方気象台 発表 福島県気象警報・注意報"
    )


# ---------------------------------------------------------------------------------------------
# Bad input: refused, never anything else

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Report [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/"><Control><Title>&lol9;</Title></Control></Report>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Report [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/"><Control><Title>&xxe;</Title></Control></Report>"""

CAP_ALERT = b"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>KSTO1055887203</identifier><sender>KSTO@NWS.NOAA.GOV</sender>
  <sent>2003-06-17T14:57:00-07:00</sent><status>Actual</status><msgType>Alert</msgType>
  <scope>Public</scope>
</alert>"""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"<Report><Control>", "not well-formed XML", id="malformed"),
        pytest.param(BILLION_LAUGHS, "declares a DTD or entities", id="billion-laughs"),
        pytest.param(EXTERNAL_ENTITY, "declares a DTD or entities", id="external-entity"),
        pytest.param(CAP_ALERT, "not a JMA 防災情報XML report (root {urn:oasis", id="cap"),
        pytest.param(
            b"<!DOCTYPE html><html><body><p>JMA</p></body></html>",
            "declares a DTD",
            id="html",
        ),
        pytest.param(b"<html><body><p>JMA</p></body></html>", "not a JMA", id="html-no-doctype"),
        pytest.param(b"", "empty document", id="empty"),
        pytest.param(b"  \n ", "empty document", id="blank"),
        pytest.param(
            b'<Report xmlns="http://example.com/jmaxml1/"/>', "not a JMA", id="wrong-namespace"
        ),
        pytest.param(b"<Report/>", "not a JMA", id="no-namespace"),
        pytest.param(
            b'<Report xmlns="http://xml.kishou.go.jp/jmaxml1/"/>', "no Control or Head", id="bare"
        ),
    ],
)
def test_bad_input_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    assert reason in refusal(data)


def test_a_real_report_in_another_namespace_is_refused() -> None:
    data = replaced(
        fixture(FUKUSHIMA_VPWW53),
        'xmlns="http://xml.kishou.go.jp/jmaxml1/"',
        'xmlns="http://xml.kishou.go.jp/jmaxml2/"',
        1,
    )

    assert "not a JMA 防災情報XML report" in refusal(data)


def test_an_oversized_document_is_refused_before_parsing() -> None:
    with pytest.raises(DocumentRefused, match="document too large"):
        parse_jmaxml(fixture(FUKUSHIMA_VPWW53), max_bytes=1000)
    with pytest.raises(DocumentRefused, match="document too large"):
        parse_jma_atom_feed(fixture(ATOM_FEED), max_bytes=100)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_can_only_be_refused(data: bytes) -> None:
    for parse in (parse_jmaxml, parse_jma_atom_feed):
        with contextlib.suppress(DocumentRefused):
            parse(data)


# Small enough to mutate quickly, with at least one of every family that makes items.
MUTATION_SOURCES = [
    *sorted(path for path in FIXTURES.rglob("*.xml") if path.stat().st_size < 40_000),
    FIXTURES / QUAKE_2008,
]
INTERESTING_TEXTS = [
    "", "解除", "取消", "訂正", "発表", "継続", "訓練", "なし", "発表警報・注意報はなし",
    "震度速報", "気象警報・注意報（Ｒ０６）（大雨）", "津波警報・注意報・予報a", "指定河川洪水予報",
    "土砂災害警戒情報", "震源に関する情報", "氾濫発生情報", "大津波警報：発表", "7", "5-", "9",
    "0720200", "2016-03-10T09:22:41Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
    "2016-03-10", "not a date", "99", "<", "&", "\n", "レベル５大雨特別警報",
]  # fmt: skip


@st.composite
def mutated_reports(draw: st.DrawFn) -> bytes:
    """A fixture with a few elements emptied, removed, duplicated or given other text."""
    path = draw(st.sampled_from(MUTATION_SOURCES))
    root = ET.fromstring(path.read_bytes())  # noqa: S314 - the project's own fixtures
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        elements = list(root.iter())
        parents = {sub: parent for parent in elements for sub in parent}
        target = draw(st.sampled_from(elements))
        operation = draw(st.sampled_from(["text", "empty", "remove", "duplicate", "attribute"]))
        if operation == "text":
            target.text = draw(st.sampled_from(INTERESTING_TEXTS) | st.text(max_size=20))
        elif operation == "empty":
            target[:] = []
        elif operation == "remove" and target in parents:
            parents[target].remove(target)
        elif operation == "duplicate" and target in parents:
            parents[target].append(target)
        elif operation == "attribute":
            target.set("type", draw(st.sampled_from(INTERESTING_TEXTS)))
    return ET.tostring(root, encoding="utf-8")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_reports(), st.sampled_from([None, {AIZUWAKAMATSU, SAMPLE_CITY, "252", "250"}]))
def test_mutated_reports_can_only_be_refused_or_parsed(
    data: bytes, area_codes: set[str] | None
) -> None:
    try:
        document = parse_jmaxml(data, area_codes=area_codes)
    except DocumentRefused as refused:
        assert refused.reason
        return
    for item in document.items:
        assert item.title_ja
        assert len(item.series) <= 200
        assert len(item.version_id) <= 300
        assert len(item.body_ja) <= 4000
        assert "<" not in item.body_ja
        assert item.version_at.tzinfo is not None
