"""JMA 防災情報XML: a telegram of the Japan Meteorological Agency in, a ParsedDocument out.

Only the information a resident of the city must act on becomes an item: weather warnings,
landslide alerts, designated-river flood forecasts, earthquake intensities of 3 and more, and
tsunami warnings. Everything else JMA publishes (forecasts, typhoon positions, risk maps…) is
refused with a reason, so that the run record says why a document made no notice.

Types are recognised by ``Control/Title``: it names the product exactly (one title per 電文 type,
e.g. 「震度速報」 for VXSE51), whereas ``Head/InfoKind`` is shared by several products (the
warnings' 時系列情報 and the warnings themselves) and says nothing about the format's version.

Every item is about the configured areas only (``area_codes``), so a warning for the coast of
Fukushima does not reach residents of Aizuwakamatsu. JMA area codes come in several code lists
(7-digit municipalities such as 0720200 会津若松市, 6-digit forecast areas such as 070030 会津,
3-digit seismic areas such as 252 福島県会津 and 3-digit tsunami regions such as 250 福島県); the
city configures the codes of every list it wants to hear about. The 3-digit seismic and tsunami
lists overlap (250 is 福島県中通り for earthquakes, 福島県 for tsunamis), which only matters to a
city that configures 3-digit codes of both. 震度速報 names seismic areas only, never
municipalities: a city hears of it when it configures its seismic area (252 福島県会津).
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET  # noqa: S405 - only used for types; parsing is defusedxml's
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import NoReturn
from urllib.parse import urlsplit

from portal.feeds.parsing.documents import (
    AreaRef,
    DocumentNotForUs,
    DocumentRefused,
    Item,
    ItemAction,
    ParsedDocument,
)
from portal.feeds.parsing.xml import DEFAULT_MAX_BYTES, local_name, namespace, parse_xml

JMX_NAMESPACE = "http://xml.kishou.go.jp/jmaxml1/"
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"

JST = timezone(timedelta(hours=9), "JST")

SERIES_MAX = 200
VERSION_MAX = 300
BODY_MAX = 4000
PARAGRAPH_MAX = 1500
# Long lists of areas make neither a readable title nor a readable body.
TITLE_AREAS_MAX = 3
BODY_AREA_LINES_MAX = 40
REFUSAL_AREAS_MAX = 10

CATEGORY = "disaster"
INFORMATION, ADVISORY, WARNING, EMERGENCY = "information", "advisory", "warning", "emergency"
URGENCY_ORDER = (INFORMATION, ADVISORY, WARNING, EMERGENCY)

ISSUE_INFO_TYPES = {"発表", "訂正"}  # 訂正 is a later version of the same series, nothing more
CANCEL_INFO_TYPE = "取消"
EXERCISE_STATUSES = {"訓練", "試験"}
KNOWN_STATUSES = {"通常", *EXERCISE_STATUSES}


class Family(StrEnum):
    WARNING = "warning"
    LANDSLIDE = "landslide"
    RIVER_FLOOD = "river_flood"
    EARTHQUAKE = "earthquake"
    TSUNAMI = "tsunami"


WARNING_TITLES = {
    "気象警報・注意報",  # VPWW50
    "気象特別警報・警報・注意報",  # VPWW53
    "気象警報・注意報（Ｈ２７）",  # VPWW54
}
# VPWW55–61, the 2026 format: one product per phenomenon,
# e.g. 「気象警報・注意報（Ｒ０６）（大雨）」.
R06_WARNING_TITLE = re.compile(r"^気象警報・注意報（Ｒ０６）（(?P<phenomenon>[^（）]+)）$")
FAMILY_BY_TITLE = {
    **dict.fromkeys(WARNING_TITLES, Family.WARNING),
    "土砂災害警戒情報": Family.LANDSLIDE,  # VXWW50
    "指定河川洪水予報": Family.RIVER_FLOOD,  # VXKO50–
    "震度速報": Family.EARTHQUAKE,  # VXSE51
    "震源・震度に関する情報": Family.EARTHQUAKE,  # VXSE53
    "震源に関する情報": Family.EARTHQUAKE,  # VXSE52: only its 取消 makes an item
    "津波警報・注意報・予報": Family.TSUNAMI,  # VTSE41 (older spelling)
    "津波警報・注意報・予報a": Family.TSUNAMI,  # VTSE41
}
# A hypocentre without intensities tells residents nothing the 震源・震度 report will not; its
# cancellation still withdraws the earthquake's series.
CANCEL_ONLY_TITLES = {"震源に関する情報"}


# ---------------------------------------------------------------------------------------------
# Public entry points


def parse_jmaxml(
    data: bytes,
    *,
    area_codes: Collection[str] | None = None,
    warning_formats: Collection[str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedDocument:
    """The items of one JMA report about ``area_codes`` (every area when None).

    JMA sends the same weather warnings in several formats at once (VPWW50/53/54, and from 2026
    one product per phenomenon); ``warning_formats`` names the Control/Titles taken, so that a
    warning makes one notice, not three (None: every format).

    Raises ``DocumentRefused`` for anything that is not a supported report about those areas
    (``DocumentNotForUs`` when it is well formed but for someone else).
    """
    report = read_report(parse_xml(data, max_bytes=max_bytes))
    wanted = None if area_codes is None else frozenset(area_codes)
    family = family_of(report.control_title)
    if family is None or (
        report.control_title in CANCEL_ONLY_TITLES and report.info_type != CANCEL_INFO_TYPE
    ):
        raise DocumentNotForUs(f"unsupported JMA information type: {report.control_title}")
    if (
        family == Family.WARNING
        and warning_formats is not None
        and report.control_title not in warning_formats
    ):
        raise DocumentNotForUs(
            f"{report.control_title}: the same warnings are taken in another format "
            f"({', '.join(warning_formats)}; setting FEEDS_JMA_WARNING_FORMATS)"
        )
    if report.info_type == CANCEL_INFO_TYPE:
        item = cancellation_item(report, family)
    else:
        item = ITEM_BUILDERS[family](report, wanted)
    return ParsedDocument(source="jma", summary=report.summary, items=(item,))


def parse_jma_atom_feed(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedDocument:
    """The documents a JMA Atom feed (extra.xml, eqvol.xml…) lists, in feed order."""
    root = parse_xml(data, max_bytes=max_bytes)
    if local_name(root) != "feed" or namespace(root) != ATOM_NAMESPACE:
        raise DocumentRefused(f"not an Atom feed (root {shorten(root.tag, 80)})")
    links = tuple(dict.fromkeys(entry_document_urls(root)))
    return ParsedDocument(
        source="jma", summary=f"JMA Atom feed: {len(links)} documents", links=links
    )


def entry_document_urls(feed: ET.Element) -> Iterator[str]:
    for entry in children(feed, "entry"):
        for link in children(entry, "link"):
            href = (link.get("href") or "").strip()
            if link.get("rel", "alternate") == "alternate" and is_web_url(href):
                yield href


def is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


# ---------------------------------------------------------------------------------------------
# The report's common parts: Control and Head


@dataclass(frozen=True)
class Report:
    control_title: str
    issued_at: datetime
    status: str
    office: str
    head_title: str
    reported_at: datetime
    event_id: str
    info_type: str
    headline: str
    head: ET.Element
    body: ET.Element | None

    @property
    def is_exercise(self) -> bool:
        return self.status in EXERCISE_STATUSES

    @property
    def summary(self) -> str:
        parts = (self.control_title, self.office, self.info_type, self.head_title)
        return shorten(" ".join(part for part in parts if part), 200)


def read_report(root: ET.Element) -> Report:
    if local_name(root) != "Report" or namespace(root) != JMX_NAMESPACE:
        raise DocumentRefused(f"not a JMA 防災情報XML report (root {shorten(root.tag, 80)})")
    control = child(root, "Control")
    head = child(root, "Head")
    if control is None or head is None:
        raise DocumentRefused("not a JMA 防災情報XML report (no Control or Head)")
    control_title = text_of(control, "Title")
    if not control_title:
        raise DocumentRefused("missing Control/Title")
    issued_text = text_of(control, "DateTime")
    if not issued_text:
        raise DocumentRefused("missing Control/DateTime")
    issued_at = parse_datetime(issued_text, "Control/DateTime")
    status = text_of(control, "Status")
    if status not in KNOWN_STATUSES:
        raise DocumentRefused(f"unknown Control/Status: {shorten(status, 20)!r}")
    info_type = text_of(head, "InfoType")
    if info_type not in ISSUE_INFO_TYPES and info_type != CANCEL_INFO_TYPE:
        raise DocumentRefused(f"unsupported Head/InfoType: {shorten(info_type, 20)!r}")
    return Report(
        control_title=control_title,
        issued_at=issued_at,
        status=status,
        office=text_of(control, "EditorialOffice"),
        head_title=text_of(head, "Title"),
        reported_at=report_time(head, issued_at),
        event_id=text_of(head, "EventID"),
        info_type=info_type,
        headline=text_at(head, "Headline", "Text"),
        head=head,
        body=child(root, "Body"),
    )


def report_time(head: ET.Element, issued_at: datetime) -> datetime:
    """When residents are told it was issued (Head/ReportDateTime); the telegram's own time is
    only seconds apart and stands in for a missing or broken one."""
    try:
        return parse_datetime(text_of(head, "ReportDateTime"), "Head/ReportDateTime")
    except DocumentRefused:
        return issued_at


def parse_datetime(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            raise DocumentRefused(f"{field} has no time zone: {shorten(text, 40)!r}")
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise DocumentRefused(f"unparseable {field}: {shorten(text, 40)!r}") from None


def family_of(control_title: str) -> Family | None:
    if R06_WARNING_TITLE.match(control_title):
        return Family.WARNING
    return FAMILY_BY_TITLE.get(control_title)


# ---------------------------------------------------------------------------------------------
# Series and versions


def series_of(report: Report, family: Family) -> str:
    """Per JMA's product spec a series is Control/Title + EditorialOffice + Status (+ EventID).

    Exception: 震度速報, 震源に関する情報 and 震源・震度に関する情報 of one earthquake share a
    series (its EventID), so that the fuller 震源・震度 report supersedes the 震度速報 instead
    of standing next to it, and a 震源 取消 withdraws what was published about that earthquake.
    """
    if family is Family.EARTHQUAKE and report.event_id:
        key = f"jma:earthquake:{report.status}:{report.event_id}"
    else:
        parts = (report.control_title, report.office, report.status, report.event_id)
        key = "jma:" + ":".join(part for part in parts if part)
    return bounded(key, SERIES_MAX)


def version_of(series: str, report: Report) -> str:
    # Control/DateTime in UTC: the same telegram fetched twice (or written with "Z" once and
    # "+00:00" once) is one version; JMA gives every new telegram of a series a later one.
    return bounded(f"{series}@{report.issued_at.isoformat()}", VERSION_MAX)


def bounded(key: str, limit: int) -> str:
    """``key`` itself when short enough, else a readable prefix and a hash of the whole."""
    if len(key) <= limit:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{key[: limit - len(digest) - 1]}#{digest}"


def make_item(
    report: Report,
    family: Family,
    *,
    action: ItemAction,
    urgency: str,
    title_ja: str,
    body_lines: Sequence[str],
    areas: Iterable[AreaRef] = (),
    title_en: str = "",
    body_en_lines: Sequence[str] = (),
) -> Item:
    series = series_of(report, family)
    mark = f"【{report.status}】" if report.is_exercise else ""
    return Item(
        series=series,
        version_id=version_of(series, report),
        version_at=report.issued_at,
        action=action,
        category=CATEGORY,
        urgency=urgency,
        title_ja=shorten(mark + title_ja, 200),
        body_ja=markdown_body(body_lines, footer=issued_by_ja(report)),
        title_en=shorten(exercise_mark_en(report) + title_en, 200) if title_en else "",
        body_en=markdown_body(body_en_lines, footer=issued_by_en(report)) if title_en else "",
        areas=tuple(dict.fromkeys(areas)),
        is_exercise=report.is_exercise,
    )


def exercise_mark_en(report: Report) -> str:
    return {"訓練": "[Exercise] ", "試験": "[Test] "}.get(report.status, "")


def cancellation_item(report: Report, family: Family) -> Item:
    """A 取消 withdraws the series whatever areas it names (usually none): it can only end a
    notice the store already holds for a configured area."""
    name = report.head_title or report.control_title
    return make_item(
        report,
        family,
        action=ItemAction.CANCEL,
        urgency=INFORMATION,
        title_ja=f"{name}は取り消されました",
        body_lines=[report.headline or f"{name}を取り消します。"],
        title_en="Cancelled: an earlier JMA report was sent in error",
        body_en_lines=["The Japan Meteorological Agency cancelled an earlier report."],
    )


# ---------------------------------------------------------------------------------------------
# Weather warnings (VPWW50/53/54 and the 2026 format VPWW55–61)

# Kind/Status words under which the named kind is not (or no longer) in force.
NOT_IN_FORCE = {"解除", "発表警報・注意報はなし", "なし"}
MUNICIPALITY_LEVEL = "（市町村等）"


@dataclass(frozen=True)
class AreaKinds:
    """One area of the report with what is in force there and what was just lifted."""

    area: AreaRef
    in_force: tuple[str, ...]
    lifted: tuple[str, ...]
    municipality: bool


def warning_item(report: Report, wanted: frozenset[str] | None) -> Item:
    entries = merged_by_code(warning_areas(report.body))
    named = select_areas(entries, wanted, finest=lambda entry: entry.municipality)
    return area_kinds_item(report, Family.WARNING, named, product=warning_product(report))


@dataclass(frozen=True)
class Product:
    """One kind of information: its name when nothing of it is in force (「…はありません」),
    and how urgent each of its kinds is."""

    name_ja: str
    name_en: str
    kind_urgency: Callable[[str], str]


def warning_product(report: Report) -> Product:
    match = R06_WARNING_TITLE.match(report.control_title)
    if match is None:
        return Product("気象警報・注意報", "weather warnings or advisories", warning_kind_urgency)
    phenomenon = match["phenomenon"]
    english = R06_PHENOMENA_EN.get(phenomenon, "")
    return Product(
        f"{phenomenon}の警報・注意報",
        f"{english} warnings or advisories" if english else "",
        warning_kind_urgency,
    )


def warning_kind_urgency(kind: str) -> str:
    if "特別警報" in kind:
        return EMERGENCY
    if "警報" in kind:  # also the 2026 format's 危険警報
        return WARNING
    if "注意報" in kind:
        return ADVISORY
    return INFORMATION


def warning_areas(body: ET.Element | None) -> Iterator[AreaKinds]:
    for warning in children(body, "Warning"):
        municipality = (warning.get("type") or "").endswith(MUNICIPALITY_LEVEL)
        for entry in children(warning, "Item"):
            area = area_ref(child(entry, "Area"))
            if area is not None:
                in_force, lifted = kinds_of(children(entry, "Kind"))
                yield AreaKinds(area, in_force, lifted, municipality)


def kinds_of(kinds: Iterable[ET.Element]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    in_force: list[str] = []
    lifted: list[str] = []
    for kind in kinds:
        name, status = text_of(kind, "Name"), text_of(kind, "Status")
        if status in NOT_IN_FORCE or name in NOT_IN_FORCE:
            # VXWW50 names a lifted alert 「解除」 itself; the caller knows what it was.
            if "解除" in (status, name):
                lifted.append(name)
        elif name:
            in_force.append(name)
    return tuple(dict.fromkeys(in_force)), tuple(dict.fromkeys(lifted))


def merged_by_code(entries: Iterable[AreaKinds]) -> list[AreaKinds]:
    """One entry per area code: an area can appear under several Warning types (VPWW57 names
    coastal areas again under 高潮予報区間)."""
    merged: dict[str, AreaKinds] = {}
    for entry in entries:
        earlier = merged.get(entry.area.code)
        if earlier is None:
            merged[entry.area.code] = entry
        else:
            merged[entry.area.code] = AreaKinds(
                earlier.area,
                tuple(dict.fromkeys(earlier.in_force + entry.in_force)),
                tuple(dict.fromkeys(earlier.lifted + entry.lifted)),
                earlier.municipality or entry.municipality,
            )
    return list(merged.values())


def area_kinds_item(
    report: Report, family: Family, named: Sequence[AreaKinds], *, product: Product
) -> Item:
    in_force = [entry for entry in named if entry.in_force]
    if not in_force:
        return lift_item(report, family, named, product)
    kinds = ordered_kinds((kind for entry in in_force for kind in entry.in_force), product)
    urgency = highest_urgency(product.kind_urgency(kind) for kind in kinds)
    areas = [entry.area for entry in in_force]
    kinds_en = [kind_en(kind) for kind in kinds[:TITLE_AREAS_MAX]]
    return make_item(
        report,
        family,
        action=ItemAction.ISSUE,
        urgency=urgency,
        title_ja=f"{compact_names(area.name for area in areas)}に{compact_kinds(kinds)}",
        body_lines=[
            report.headline,
            area_lines(f"{entry.area.name}：{'、'.join(entry.in_force)}" for entry in in_force),
        ],
        areas=areas,
        title_en=english_title(kinds_en, areas, more=len(kinds) > TITLE_AREAS_MAX),
        body_en_lines=english_area_lines(in_force),
    )


def lift_item(report: Report, family: Family, named: Sequence[AreaKinds], product: Product) -> Item:
    """Nothing is in force in any configured area: what was is over. A report that merely says
    「発表警報・注意報はなし」 for the city is a lift too, so that a notice of an earlier report
    (or one whose lift the city missed) ends with it."""
    areas = [entry.area for entry in named]
    lifted_here = [entry for entry in named if entry.lifted]
    if lifted_here:
        # The title names what was lifted where; the item keeps every configured area, so that
        # the store finds the notice whichever of them it was about.
        place = compact_names(entry.area.name for entry in lifted_here)
        lifted = list(dict.fromkeys(kind for entry in lifted_here for kind in entry.lifted))
        title_ja = f"{place}の{compact_kinds(lifted)}は解除されました"
    else:
        place = compact_names(area.name for area in areas)
        title_ja = f"{place}に発表中の{product.name_ja}はありません"
    lines = [
        f"{entry.area.name}：{'、'.join(entry.lifted)} 解除"
        if entry.lifted
        else f"{entry.area.name}：発表中の{product.name_ja}なし"
        for entry in named
    ]
    english_place = english_names(areas)
    title_en = (
        f"No {product.name_en} in force: {english_place}"
        if product.name_en and english_place
        else ""
    )
    return make_item(
        report,
        family,
        action=ItemAction.LIFT,
        urgency=INFORMATION,
        title_ja=title_ja,
        body_lines=[report.headline, area_lines(lines)],
        areas=areas,
        title_en=title_en,
        body_en_lines=[title_en],
    )


def ordered_kinds(kinds: Iterable[str], product: Product) -> list[str]:
    """Most urgent first, then in the order JMA lists them."""
    unique = list(dict.fromkeys(kinds))
    return sorted(unique, key=lambda kind: -URGENCY_ORDER.index(product.kind_urgency(kind)))


def highest_urgency(urgencies: Iterable[str]) -> str:
    return max(urgencies, key=URGENCY_ORDER.index, default=INFORMATION)


# ---------------------------------------------------------------------------------------------
# 土砂災害警戒情報 (VXWW50)


def landslide_item(report: Report, wanted: frozenset[str] | None) -> Item:
    # Its Warning lists every municipality of the prefecture, each with 警戒, 解除 or なし.
    entries = merged_by_code(warning_areas(report.body))
    named = select_areas(entries, wanted, finest=lambda entry: True)
    # The 2026 format calls the alert 「レベル４土砂災害危険警報」; its kind is still 警戒.
    name = "レベル４土砂災害危険警報" if "危険警報" in report.head_title else "土砂災害警戒情報"
    in_force = [
        AreaKinds(
            entry.area, (name,) if entry.in_force else (), (name,) if entry.lifted else (), True
        )
        for entry in named
    ]
    product = Product(name, "landslide alerts", lambda kind: WARNING)
    return area_kinds_item(report, Family.LANDSLIDE, in_force, product=product)


# ---------------------------------------------------------------------------------------------
# 指定河川洪水予報 (VXKO)

# The Headline kinds by 警戒レベル: 氾濫発生 5, 氾濫危険 4, 氾濫警戒 3, 氾濫注意 2.
RIVER_LEVEL_WORDS = (("氾濫発生", 5), ("氾濫危険", 4), ("氾濫警戒", 3), ("氾濫注意", 2))
RIVER_URGENCY = {5: EMERGENCY, 4: WARNING, 3: ADVISORY, 2: ADVISORY}


def river_flood_item(report: Report, wanted: frozenset[str] | None) -> Item:
    level = river_level(report.head)
    # The municipalities are those of the 浸水想定地区 (Body/Warning/Item/Areas/Area/CityCode):
    # the places that may flood, which is what residents need to know.
    cities = list(dict.fromkeys(flood_cities(report.body)))
    named = cities if wanted is None else [city for city in cities if city.code in wanted]
    title = report.head_title or report.control_title
    if level == 0:
        # A lift often names no 浸水想定地区 at all; like a cancellation it can only end a series
        # the store already holds, so it is not matched against the configured areas.
        return make_item(
            report,
            Family.RIVER_FLOOD,
            action=ItemAction.LIFT,
            urgency=INFORMATION,
            title_ja=title,
            body_lines=[report.headline],
            areas=named,
            title_en="River flood forecast lifted",
            body_en_lines=["The flood forecast for this river has been lifted."],
        )
    if not cities:
        raise DocumentRefused("names no municipality that may flood (浸水想定地区)")
    if not named:
        refuse_unconfigured(cities)
    return make_item(
        report,
        Family.RIVER_FLOOD,
        action=ItemAction.ISSUE,
        urgency=RIVER_URGENCY[level],
        title_ja=f"{title}（警戒レベル{to_fullwidth(str(level))}相当）",
        body_lines=[
            report.headline,
            *flood_main_texts(report.body),
            f"浸水のおそれ：{'、'.join(dict.fromkeys(city.name for city in named))}",
        ],
        areas=named,
        title_en=f"River flood forecast: alert level {level}",
        body_en_lines=[f"River flood forecast at alert level {level} for this river."],
    )


def river_level(head: ET.Element) -> int:
    """The highest 警戒レベル the Headline announces; 0 when every kind is a 解除."""
    levels = [
        kind_level(text_of(kind, "Name"), text_of(kind, "Code"))
        for information in children(child(head, "Headline"), "Information")
        for entry in children(information, "Item")
        for kind in children(entry, "Kind")
    ]
    return max(levels, default=0)


def kind_level(name: str, code: str) -> int:
    if name.endswith("解除"):
        return 0
    for word, level in RIVER_LEVEL_WORDS:
        if word in name:
            return level
    # JMA's codes are the level times ten (40 氾濫危険情報); 10 and below are lifts.
    return int(code[0]) if len(code) == 2 and code.isascii() and code[0] in "2345" else 0


def flood_cities(body: ET.Element | None) -> Iterator[AreaRef]:
    for warning in children(body, "Warning"):
        for entry in children(warning, "Item"):
            for area in children(child(entry, "Areas"), "Area"):
                code, name = text_of(area, "CityCode"), text_of(area, "City")
                if code:
                    yield AreaRef("jma", code, name)


def flood_main_texts(body: ET.Element | None) -> list[str]:
    texts = [
        text_of(prop, "Text")
        for warning in children(body, "Warning")
        for entry in children(warning, "Item")
        for kind in children(entry, "Kind")
        for prop in children(kind, "Property")
        if text_of(prop, "Type") == "主文"
    ]
    return [text for text in texts if text][:3]


# ---------------------------------------------------------------------------------------------
# Earthquakes: 震度速報 (VXSE51), 震源・震度に関する情報 (VXSE53)

INTENSITY_ORDER = ("1", "2", "3", "4", "5-", "5+", "6-", "6+", "7")
INTENSITY_JA = {
    "1": "１", "2": "２", "3": "３", "4": "４", "5-": "５弱", "5+": "５強",
    "6-": "６弱", "6+": "６強", "7": "７",
}  # fmt: skip
INTENSITY_EN = {
    "1": "1", "2": "2", "3": "3", "4": "4", "5-": "5 lower", "5+": "5 upper",
    "6-": "6 lower", "6+": "6 upper", "7": "7",
}  # fmt: skip
# Stations that have not reported although 5弱 or more is estimated: at least 5弱, say so.
UNREPORTED = "5-?"
# JMA reports intensities of 3 and more; below that nothing needs a notice.
REPORTED_FROM = INTENSITY_ORDER.index("3")
INTENSITY_URGENCY = {
    "3": INFORMATION, "4": ADVISORY, "5-": WARNING, "5+": WARNING, UNREPORTED: WARNING,
}  # fmt: skip


@dataclass(frozen=True)
class Shaking:
    area: AreaRef
    # How residents read the place: the city with its prefecture (「福島県会津若松市」).
    place: str
    intensity: str
    # 0 prefecture, 1 seismic area (細分区域), 2 municipality.
    level: int


def earthquake_item(report: Report, wanted: frozenset[str] | None) -> Item:
    observed = list(observed_intensities(report.body))
    if wanted is None:
        finest = max((shaking.level for shaking in observed), default=0)
        named = [shaking for shaking in observed if shaking.level == finest]
    else:
        named = [shaking for shaking in observed if shaking.area.code in wanted]
    if not named:
        if wanted is None:
            raise DocumentRefused("names no area with an observed seismic intensity")
        finest_first = sorted(observed, key=lambda shaking: -shaking.level)
        refuse_unconfigured([shaking.area for shaking in finest_first])
    strong = sorted(
        (shaking for shaking in named if intensity_rank(shaking.intensity) >= REPORTED_FROM),
        key=lambda shaking: -intensity_rank(shaking.intensity),
    )
    if not strong:
        where = "every area it names" if wanted is None else "the configured areas"
        raise DocumentNotForUs(f"intensity below 3 in {where}")
    strongest = strong[0].intensity
    places = compact_names(shaking.place for shaking in strong)
    most = "最大" if len({shaking.intensity for shaking in strong}) > 1 else ""
    english_places = english_names(shaking.area for shaking in strong)
    return make_item(
        report,
        Family.EARTHQUAKE,
        action=ItemAction.ISSUE,
        urgency=INTENSITY_URGENCY.get(strongest, EMERGENCY),
        title_ja=f"{places}で{most}震度{intensity_ja(strongest)}",
        body_lines=[
            report.headline,
            hypocentre_line(report.body),
            area_lines(
                f"{shaking.place}：震度{intensity_ja(shaking.intensity)}" for shaking in strong
            ),
            *earthquake_comments(report.body),
        ],
        areas=[shaking.area for shaking in strong],
        title_en=(
            f"Earthquake, seismic intensity {intensity_en(strongest)}: {english_places}"
            if english_places
            else ""
        ),
        body_en_lines=[
            "\n".join(
                f"- {place}: seismic intensity {intensity_en(shaking.intensity)}"
                for shaking in strong
                if (place := english_names([shaking.area]))
            )
        ],
    )


def observed_intensities(body: ET.Element | None) -> Iterator[Shaking]:
    """Every prefecture, seismic area and municipality of Body/Intensity/Observation."""
    observation = child(child(body, "Intensity"), "Observation")
    for pref in children(observation, "Pref"):
        pref_name = text_of(pref, "Name")
        yield from shaking_of(pref, pref_name, level=0)
        for area in children(pref, "Area"):
            yield from shaking_of(area, text_of(area, "Name"), level=1)
            for city in children(area, "City"):
                yield from shaking_of(city, pref_name + text_of(city, "Name"), level=2)


def shaking_of(element: ET.Element, place: str, *, level: int) -> Iterator[Shaking]:
    area = area_ref(element)
    if area is None:
        return
    intensity = text_of(element, "MaxInt")
    if intensity not in INTENSITY_ORDER and "未入電" in text_of(element, "Condition"):
        intensity = UNREPORTED
    if intensity in INTENSITY_ORDER or intensity == UNREPORTED:
        yield Shaking(area, place, intensity, level)


def intensity_rank(intensity: str) -> int:
    if intensity == UNREPORTED:
        return INTENSITY_ORDER.index("5-")
    return INTENSITY_ORDER.index(intensity)


def intensity_ja(intensity: str) -> str:
    return "５弱以上（未入電）" if intensity == UNREPORTED else INTENSITY_JA[intensity]


def intensity_en(intensity: str) -> str:
    return (
        "5 lower or more (not yet reported)"
        if intensity == UNREPORTED
        else (INTENSITY_EN[intensity])
    )


def hypocentre_line(body: ET.Element | None) -> str:
    earthquake = child(body, "Earthquake")
    place = text_at(earthquake, "Hypocenter", "Area", "Name")
    magnitude = child(earthquake, "Magnitude")
    size = (magnitude.get("description") or "").strip() if magnitude is not None else ""
    parts = [f"震源：{place}" if place else "", f"規模：{size}" if size else ""]
    return "　".join(part for part in parts if part)


def earthquake_comments(body: ET.Element | None) -> list[str]:
    comments = child(body, "Comments")
    return [text_of(comment, "Text") for comment in children(comments, "ForecastComment")]


# ---------------------------------------------------------------------------------------------
# 津波警報・注意報・予報 (VTSE41)


def tsunami_item(report: Report, wanted: frozenset[str] | None) -> Item:
    forecast = child(child(report.body, "Tsunami"), "Forecast")
    entries = merged_by_code(
        AreaKinds(area, *tsunami_kinds(entry), True)
        for entry in children(forecast, "Item")
        if (area := area_ref(child(entry, "Area"))) is not None
    )
    named = select_areas(entries, wanted, finest=lambda entry: True)
    product = Product("津波警報・注意報", "tsunami warnings or advisories", tsunami_kind_urgency)
    return area_kinds_item(report, Family.TSUNAMI, named, product=product)


def tsunami_kinds(entry: ET.Element) -> tuple[tuple[str, ...], tuple[str, ...]]:
    # 「大津波警報：発表」 reads 大津波警報; 「津波注意報解除」 and 「津波なし」 are not in force.
    name = text_at(entry, "Category", "Kind", "Name").split("：", 1)[0]
    if not name or name == "津波なし":
        return (), ()
    if "解除" in name:
        return (), (name.removesuffix("解除"),)
    return (name,), ()


def tsunami_kind_urgency(kind: str) -> str:
    if "大津波警報" in kind:
        return EMERGENCY
    if "津波警報" in kind:
        return WARNING
    if "津波注意報" in kind:
        return ADVISORY
    return INFORMATION


ITEM_BUILDERS: dict[Family, Callable[[Report, frozenset[str] | None], Item]] = {
    Family.WARNING: warning_item,
    Family.LANDSLIDE: landslide_item,
    Family.RIVER_FLOOD: river_flood_item,
    Family.EARTHQUAKE: earthquake_item,
    Family.TSUNAMI: tsunami_item,
}


# ---------------------------------------------------------------------------------------------
# Areas


def area_ref(element: ET.Element | None) -> AreaRef | None:
    code = text_of(element, "Code")
    return AreaRef("jma", code, text_of(element, "Name")) if code else None


def select_areas(
    entries: Sequence[AreaKinds],
    wanted: frozenset[str] | None,
    *,
    finest: Callable[[AreaKinds], bool],
) -> list[AreaKinds]:
    """The configured areas the report names; without configuration the finest level (the
    municipalities) of the report, or all of it when it has no such level."""
    if wanted is None:
        named = [entry for entry in entries if finest(entry)] or list(entries)
        if not named:
            raise DocumentRefused("names no areas")
        return named
    named = [entry for entry in entries if entry.area.code in wanted]
    if not named:
        finest_first = sorted(entries, key=lambda entry: not finest(entry))
        refuse_unconfigured([entry.area for entry in finest_first])
    return named


def refuse_unconfigured(areas: Sequence[AreaRef]) -> NoReturn:
    unique = list(dict.fromkeys(f"{area.code} {area.name}".strip() for area in areas))
    listed = ", ".join(shorten(name, 40) for name in unique[:REFUSAL_AREAS_MAX])
    if len(unique) > REFUSAL_AREAS_MAX:
        listed += f" … {len(unique)} in all"
    names = f"it names: {listed}" if unique else "it names no areas"
    raise DocumentNotForUs(f"concerns none of the configured areas ({names})")


def compact_names(names: Iterable[str]) -> str:
    unique = list(dict.fromkeys(name for name in names if name))
    if len(unique) <= TITLE_AREAS_MAX:
        return "・".join(unique)
    return f"{'・'.join(unique[: TITLE_AREAS_MAX - 1])}など{len(unique)}地域"


def compact_kinds(kinds: Sequence[str]) -> str:
    if len(kinds) <= TITLE_AREAS_MAX:
        return "・".join(kinds)
    return f"{'・'.join(kinds[:TITLE_AREAS_MAX])}など"


def area_lines(lines: Iterable[str]) -> str:
    """One Markdown list item per area, so that each stays on its own line when rendered."""
    listed = list(lines)
    shown = [f"- {line}" for line in listed[:BODY_AREA_LINES_MAX]]
    if len(listed) > BODY_AREA_LINES_MAX:
        shown.append(f"- ほか{len(listed) - BODY_AREA_LINES_MAX}地域")
    return "\n".join(shown)


# ---------------------------------------------------------------------------------------------
# English, where it can be produced mechanically

KIND_BASES_EN = {
    "大雨": "heavy rain", "洪水": "flood", "大雪": "heavy snow", "暴風": "storm",
    "暴風雪": "snowstorm", "強風": "strong wind", "風雪": "wind and snow", "波浪": "high wave",
    "高潮": "storm surge", "雷": "thunderstorm", "融雪": "snowmelt", "濃霧": "dense fog",
    "乾燥": "dry air", "なだれ": "avalanche", "低温": "low temperature", "霜": "frost",
    "着氷": "icing", "着雪": "snow accretion", "土砂災害": "landslide", "氾濫": "flood",
    "津波": "tsunami", "大津波": "major tsunami",
}  # fmt: skip
KIND_SUFFIXES_EN = (
    ("特別警報", "emergency warning"),
    ("危険警報", "danger warning"),
    ("警報", "warning"),
    ("注意報", "advisory"),
)
OTHER_KINDS_EN = {
    "土砂災害警戒情報": "Landslide alert",
    "津波予報（若干の海面変動）": "Tsunami forecast (slight sea level change)",
}
R06_PHENOMENA_EN = {
    "大雨": "heavy rain", "土砂": "landslide", "高潮": "storm surge", "暴風": "storm",
    "波浪": "high wave", "大雪": "heavy snow", "その他注意報": "other",
}  # fmt: skip
# The places of the city and around it; other places keep a Japanese-only title.
AREA_NAMES_EN = {
    "会津若松市": "Aizuwakamatsu", "会津": "Aizu", "会津北部": "Northern Aizu",
    "会津中部": "Central Aizu", "会津南部": "Southern Aizu", "福島県": "Fukushima Prefecture",
    "福島県会津": "Aizu, Fukushima", "福島県中通り": "Nakadori, Fukushima",
    "福島県浜通り": "Hamadori, Fukushima", "喜多方市": "Kitakata", "磐梯町": "Bandai",
    "猪苗代町": "Inawashiro", "会津坂下町": "Aizubange", "湯川村": "Yugawa",
    "会津美里町": "Aizumisato", "北塩原村": "Kitashiobara", "下郷町": "Shimogo",
}  # fmt: skip
OFFICES_EN = {
    "福島地方気象台": "the Fukushima Local Meteorological Office",
    "仙台管区気象台": "the Sendai Regional Headquarters of JMA",
    "気象庁本庁": "the Japan Meteorological Agency",
}
# Not strftime's %B, which follows the process's locale.
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
LEVEL_PREFIX = re.compile(r"^レベル([０-９0-9])")


def kind_en(kind: str) -> str:
    """「レベル３大雨警報」 → "Level 3 heavy rain warning"; "" when a word is not in the tables."""
    if kind in OTHER_KINDS_EN:
        return OTHER_KINDS_EN[kind]
    level = ""
    if match := LEVEL_PREFIX.match(kind):
        level = f"Level {from_fullwidth(match[1])} "
        kind = kind[match.end() :]
    for suffix, english in KIND_SUFFIXES_EN:
        if kind.endswith(suffix):
            base = KIND_BASES_EN.get(kind.removesuffix(suffix))
            if base:
                phrase = f"{level}{base} {english}"
                return phrase[0].upper() + phrase[1:]
            return ""
    return ""


def english_names(areas: Iterable[AreaRef]) -> str:
    """The areas in English, or "" when one of them has no English name in the table."""
    unique = list(dict.fromkeys(areas))
    names = [AREA_NAMES_EN.get(area.name, "") for area in unique]
    if not names or not all(names):
        return ""
    return ", ".join(dict.fromkeys(names))


def english_title(kinds_en: Sequence[str], areas: Sequence[AreaRef], *, more: bool) -> str:
    places = english_names(areas)
    if not places or not kinds_en or not all(kinds_en):
        return ""
    return f"{', '.join(kinds_en)}{' and more' if more else ''}: {places}"


def english_area_lines(entries: Sequence[AreaKinds]) -> list[str]:
    lines = []
    for entry in entries:
        place = english_names([entry.area])
        kinds = [kind_en(kind) for kind in entry.in_force]
        if place and kinds and all(kinds):
            lines.append(f"- {place}: {', '.join(kinds)}")
    return ["\n".join(lines)] if lines else []


def issued_by_en(report: Report) -> str:
    office = OFFICES_EN.get(report.office, "the Japan Meteorological Agency")
    when = japan_time(report.reported_at)
    if when is None:
        return f"Issued by {office}"
    return f"Issued by {office} ({when.day} {MONTHS_EN[when.month - 1]} {when:%Y, %H:%M} JST)"


# ---------------------------------------------------------------------------------------------
# Text


def issued_by_ja(report: Report) -> str:
    office = report.office or "気象庁"
    when = japan_time(report.reported_at)
    if when is None:
        return f"発表：{office}"
    date = f"{when.year}年{when.month}月{when.day}日"
    return f"発表：{office}（{date} {when.hour}時{when.minute:02d}分）"


def japan_time(value: datetime) -> datetime | None:
    try:
        return value.astimezone(JST)
    except OverflowError:
        return None


def markdown_body(paragraphs: Iterable[str], *, footer: str) -> str:
    """Paragraphs of plain text that Markdown renders as they read: no HTML can come through
    (ASCII angle brackets become full-width ones, as JMA itself writes them), and every line of
    JMA's text stays a line. Long text is cut, never the footer saying who issued it."""
    cleaned = [shorten(plain_paragraph(paragraph), PARAGRAPH_MAX) for paragraph in paragraphs]
    text = shorten("\n\n".join(paragraph for paragraph in cleaned if paragraph), BODY_MAX - 200)
    return "\n\n".join(part for part in (text, shorten(plain_paragraph(footer), 198)) if part)


def plain_paragraph(text: str) -> str:
    text = text.replace("<", "＜").replace(">", "＞").replace("\r", "")
    lines = [line.strip() for line in text.split("\n")]
    kept = [line for line in lines if line]
    # A list keeps its single line breaks; prose lines become paragraphs of their own.
    if kept and all(line.startswith("- ") for line in kept):
        return "\n".join(kept)
    return "\n\n".join(kept)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_fullwidth(digits: str) -> str:
    return digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def from_fullwidth(digits: str) -> str:
    return digits.translate(str.maketrans("０１２３４５６７８９", "0123456789"))


# ---------------------------------------------------------------------------------------------
# Element access by local name: JMA puts Head and Body in namespaces of their own (and several
# versions of them), so the parts below the checked root are found by name alone.


def children(element: ET.Element | None, name: str) -> list[ET.Element]:
    if element is None:
        return []
    return [sub for sub in element if local_name(sub) == name]


def child(element: ET.Element | None, name: str) -> ET.Element | None:
    found = children(element, name)
    return found[0] if found else None


def text_of(element: ET.Element | None, name: str) -> str:
    found = child(element, name)
    return (found.text or "").strip() if found is not None else ""


def text_at(element: ET.Element | None, *path: str) -> str:
    for name in path[:-1]:
        element = child(element, name)
    return text_of(element, path[-1])
