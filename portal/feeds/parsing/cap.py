"""CAP 1.2 and 1.1 alerts (OASIS Common Alerting Protocol) → one ``Item`` per alert.

An alert's ``info`` blocks are the same message in several languages (or for several events
the sender groups together): the notice takes its Japanese text from a ``ja`` block and its
English text from an ``en`` block, its urgency from the most urgent block, its areas from all.

Identity follows CAP's own: an alert is named by ``sender,identifier,sent`` and names the
alerts it updates or cancels the same way in ``references``. Each alert starts a series of its
own; the store follows ``references`` to the series an Update or Cancel belongs to.

Anything wrong with the alert as a whole raises ``DocumentRefused``; what is wrong with its
content (a malformed polygon, a severity CAP does not know) refuses the item instead, so the
run record still shows which alert it was.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET  # noqa: S405 - only used for types; parsing is defusedxml's
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from portal.feeds.parsing.documents import (
    SERIES_MAX_LENGTH,
    VERSION_ID_MAX_LENGTH,
    AreaRef,
    Circle,
    DocumentRefused,
    Item,
    ItemAction,
    ItemRefusal,
    ParsedDocument,
    Polygon,
    bounded_identity,
)
from portal.feeds.parsing.text import markdown_safe_text, single_line
from portal.feeds.parsing.xml import local_name, namespace, parse_xml

SOURCE = "cap"
CAP_NAMESPACES = {
    "urn:oasis:names:tc:emergency:cap:1.2": "1.2",
    "urn:oasis:names:tc:emergency:cap:1.1": "1.1",
}
CAP_1_0_NAMESPACE = "http://www.incident.com/cap/1.0"

SUMMARY_MAX_LENGTH = 200

PUBLISHED_STATUSES = {"Actual": False, "Exercise": True, "Test": True}  # status → is_exercise
UNPUBLISHED_STATUSES = {"System", "Draft"}
ACTIONS = {"Alert": ItemAction.ISSUE, "Update": ItemAction.ISSUE, "Cancel": ItemAction.CANCEL}
NOT_NOTICES = {"Ack", "Error"}
SCOPES = {"Public", "Restricted", "Private"}

# CAP severity → portal urgency (portal.notices.models.Urgency):
#
#   | CAP severity | portal urgency |
#   |--------------|----------------|
#   | Extreme      | emergency      |
#   | Severe       | warning        |
#   | Moderate     | advisory       |
#   | Minor        | information    |
#   | Unknown      | information    |
#
# A block whose CAP urgency is Past (the event is over) or whose certainty is Unlikely is only
# information, whatever its severity. The alert takes the most urgent of its blocks.
SEVERITY_TO_URGENCY = {
    "Extreme": "emergency",
    "Severe": "warning",
    "Moderate": "advisory",
    "Minor": "information",
    "Unknown": "information",
}
URGENCY_ORDER = ("information", "advisory", "warning", "emergency")
CAP_URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
# "Very Likely" is CAP 1.0's, which CAP 1.1 and 1.2 say to read as "Likely".
CAP_CERTAINTIES = ("Observed", "Likely", "Very Likely", "Possible", "Unlikely", "Unknown")

# CAP forbids these in sender and identifier: references are "sender,identifier,sent" triples
# separated by spaces, so either would make them ambiguous.
_UNSAFE_IN_NAME = re.compile(r"[\s,<&]")
# A "web" line is written as a Markdown autolink, which may not hold spaces, '<' or '>'.
_WEB_URL = re.compile(r"^https?://[^\s<>\"\\\x00-\x1f\x7f]+$", re.IGNORECASE)


class _ItemProblem(Exception):
    """What is wrong with the alert's content: the item is refused, not the document."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class _Header:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    references: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class _Info:
    language: str
    title: str
    body: str
    urgency: str
    expires: datetime | None
    areas: tuple[AreaRef, ...]
    polygons: tuple[Polygon, ...]
    circles: tuple[Circle, ...]


def parse_cap(data: bytes) -> ParsedDocument:
    """The notice a CAP 1.2 or 1.1 alert makes, or ``DocumentRefused`` saying why it makes
    none."""
    root = parse_xml(data)
    _check_root(root)
    header = _read_header(root)
    summary = f"CAP {header.msg_type} {header.identifier} ({header.sender})"[:SUMMARY_MAX_LENGTH]
    if header.scope != "Public":
        return ParsedDocument(
            source=SOURCE, summary=summary, notes=(f"scope {header.scope}: not for the public",)
        )
    info_elements = _children(root, "info")
    action = ACTIONS[header.msg_type]
    if not info_elements and action is ItemAction.ISSUE:
        return ParsedDocument(
            source=SOURCE, summary=summary, notes=("the alert has no info block: nothing to show",)
        )
    try:
        item = _item(header, [_read_info(element) for element in info_elements])
    except _ItemProblem as problem:
        refusal = ItemRefusal(reference=_own_version_id(header), reason=problem.reason)
        return ParsedDocument(source=SOURCE, summary=summary, refused=(refusal,))
    return ParsedDocument(source=SOURCE, summary=summary, items=(item,))


def cap_series(sender: str, identifier: str) -> str:
    """The series an alert starts: its own ``sender,identifier``."""
    return bounded_identity(f"cap:{sender},{identifier}", SERIES_MAX_LENGTH)


def cap_version_id(sender: str, identifier: str, sent: datetime) -> str:
    """An alert's version id, the same whether built from the alert or from a reference to it.

    ``sent`` is written in UTC so that ``-00:00``, ``+00:00`` and ``+09:00`` spellings of the
    same instant name the same alert.
    """
    sent_utc = sent.astimezone(UTC).isoformat()
    return bounded_identity(f"cap:{sender},{identifier},{sent_utc}", VERSION_ID_MAX_LENGTH)


# The alert ----------------------------------------------------------------------------------


def _check_root(root: ET.Element) -> None:
    ns = namespace(root)
    if ns == CAP_1_0_NAMESPACE:
        raise DocumentRefused("CAP 1.0 is not supported")
    if local_name(root) != "alert" or ns not in CAP_NAMESPACES:
        raise DocumentRefused(f"not a CAP alert (root {root.tag[:120]})")


def _read_header(root: ET.Element) -> _Header:
    identifier = _name(root, "identifier")
    sender = _name(root, "sender")
    sent = _required_datetime(root, "sent")
    status = _required(root, "status")
    if status in UNPUBLISHED_STATUSES:
        raise DocumentRefused(f"status {status} is not published")
    if status not in PUBLISHED_STATUSES:
        raise DocumentRefused(f"status {status[:40]!r} is not a CAP status")
    msg_type = _required(root, "msgType")
    if msg_type in NOT_NOTICES:
        raise DocumentRefused(f"msgType {msg_type} is not a notice")
    if msg_type not in ACTIONS:
        raise DocumentRefused(f"msgType {msg_type[:40]!r} is not a CAP message type")
    scope = _required(root, "scope")
    if scope not in SCOPES:
        raise DocumentRefused(f"scope {scope[:40]!r} is not a CAP scope")
    references = _read_references(root)
    if msg_type == "Cancel" and not references:
        raise DocumentRefused("msgType Cancel without references: it cancels nothing")
    return _Header(
        identifier=identifier,
        sender=sender,
        sent=sent,
        status=status,
        msg_type=msg_type,
        scope=scope,
        references=references,
        note=_text(_child(root, "note")),
    )


def _name(root: ET.Element, name: str) -> str:
    value = _required(root, name)
    if _UNSAFE_IN_NAME.search(value):
        raise DocumentRefused(f"{name} {value[:80]!r} holds a space, comma, '<' or '&'")
    return value


def _required_datetime(root: ET.Element, name: str) -> datetime:
    value = _required(root, name)
    parsed = _aware_datetime(value)
    if parsed is None:
        raise DocumentRefused(f"{name} {value[:80]!r} is not a date and time with a time zone")
    return parsed


def _read_references(root: ET.Element) -> tuple[str, ...]:
    element = _child(root, "references")
    if element is None:
        return ()
    triples = _text(element).split()
    if not triples:
        # Distinguished from an absent element: an empty one is a sender's mistake (CAP's
        # schema requires at least one reference), and guessing what it meant is not ours.
        raise DocumentRefused("references is empty: it must list sender,identifier,sent")
    return tuple(_reference_version_id(triple) for triple in triples)


def _reference_version_id(triple: str) -> str:
    parts = triple.split(",")
    sent = _aware_datetime(parts[2]) if len(parts) == 3 else None
    if sent is None or not parts[0] or not parts[1]:
        raise DocumentRefused(f"references: {triple[:120]!r} is not sender,identifier,sent")
    return cap_version_id(parts[0], parts[1], sent)


def _own_version_id(header: _Header) -> str:
    return cap_version_id(header.sender, header.identifier, header.sent)


def _item(header: _Header, infos: Sequence[_Info]) -> Item:
    japanese = next((info for info in infos if _is_japanese(info.language)), None)
    english = next((info for info in infos if _is_english(info.language)), None)
    # Without Japanese, the first block stands in: a neighbour's foreign alert still reaches
    # residents, in the language it was written in.
    primary = japanese or (infos[0] if infos else None)
    title_ja, body_ja = (primary.title, primary.body) if primary else _cancellation_text(header)
    return Item(
        series=cap_series(header.sender, header.identifier),
        version_id=_own_version_id(header),
        version_at=header.sent,
        action=ACTIONS[header.msg_type],
        category="disaster",
        urgency=max(
            (info.urgency for info in infos), key=URGENCY_ORDER.index, default="information"
        ),
        title_ja=title_ja,
        body_ja=body_ja,
        title_en=english.title if english else "",
        body_en=english.body if english else "",
        areas=_areas_named_as_in(primary, infos),
        polygons=_unique(polygon for info in infos for polygon in info.polygons),
        circles=_unique(circle for info in infos for circle in info.circles),
        expires_at=max((info.expires for info in infos if info.expires), default=None),
        is_exercise=PUBLISHED_STATUSES[header.status],
        references=header.references,
    )


def _areas_named_as_in(primary: _Info | None, infos: Sequence[_Info]) -> tuple[AreaRef, ...]:
    """Every block's areas, once each: blocks in other languages repeat the same geocodes
    under translated names, and the name the notice shows is the primary block's."""
    ordered = ([primary] if primary else []) + [info for info in infos if info is not primary]
    by_code: dict[tuple[str, str], AreaRef] = {}
    for info in ordered:
        for area in info.areas:
            by_code.setdefault((area.scheme, area.code), area)
    return tuple(by_code.values())


def _cancellation_text(header: _Header) -> tuple[str, str]:
    """A Cancel may carry no info block: the store only needs to know what it withdraws, but a
    notice needs a title."""
    return "取消", markdown_safe_text(header.note)


# An info block --------------------------------------------------------------------------------


def _read_info(element: ET.Element) -> _Info:
    # CAP's default language, when a block names none.
    language = _text(_child(element, "language")) or "en-US"
    title = single_line(_text(_child(element, "headline")) or _text(_child(element, "event")))
    if not title:
        raise _ItemProblem("an info block has neither headline nor event")
    return _Info(
        language=language,
        title=title,
        body=_body(element),
        urgency=_portal_urgency(element),
        expires=_expires(element),
        areas=tuple(area for block in _children(element, "area") for area in _area_refs(block)),
        polygons=tuple(_polygon(text) for text in _shapes(element, "polygon")),
        circles=tuple(_circle(text) for text in _shapes(element, "circle")),
    )


def _body(info: ET.Element) -> str:
    paragraphs = [
        markdown_safe_text(_text(_child(info, "description"))),
        markdown_safe_text(_text(_child(info, "instruction"))),
    ]
    web = _text(_child(info, "web"))
    # A web address that is not http(s) is left out rather than shown as a dead or unsafe link.
    if _WEB_URL.match(web):
        paragraphs.append(f"<{web}>")
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def _portal_urgency(info: ET.Element) -> str:
    severity = _enumerated(info, "severity", tuple(SEVERITY_TO_URGENCY))
    cap_urgency = _enumerated(info, "urgency", CAP_URGENCIES)
    certainty = _enumerated(info, "certainty", CAP_CERTAINTIES)
    if cap_urgency == "Past" or certainty == "Unlikely":
        return "information"
    return SEVERITY_TO_URGENCY[severity]


def _enumerated(info: ET.Element, name: str, allowed: Sequence[str]) -> str:
    value = _text(_child(info, name))
    if value not in allowed:
        raise _ItemProblem(f"info {name} {value[:40]!r} is not one of {', '.join(allowed)}")
    return value


def _expires(info: ET.Element) -> datetime | None:
    value = _text(_child(info, "expires"))
    if not value:
        return None
    parsed = _aware_datetime(value)
    if parsed is None:
        raise _ItemProblem(f"expires {value[:80]!r} is not a date and time with a time zone")
    return parsed


def _area_refs(area: ET.Element) -> list[AreaRef]:
    name = _collapse_whitespace(_text(_child(area, "areaDesc")))
    refs = []
    for geocode in _children(area, "geocode"):
        value_name = _text(_child(geocode, "valueName"))
        value = _text(_child(geocode, "value"))
        # An empty geocode names no place; it is skipped rather than matched against nothing.
        if value_name and value:
            refs.append(AreaRef(scheme=f"cap:{value_name}", code=value, name=name))
    return refs


def _shapes(info: ET.Element, name: str) -> list[str]:
    """The non-empty polygons or circles of every area: the NWS sends ``<polygon></polygon>``
    when it has none, which is no shape rather than a malformed one."""
    texts = (_text(shape) for area in _children(info, "area") for shape in _children(area, name))
    return [text for text in texts if text]


def _polygon(text: str) -> Polygon:
    pairs = text.split()
    points = tuple(_point(pair, what="polygon") for pair in pairs)
    if len(points) < 4:
        raise _ItemProblem(f"polygon has {len(points)} points, fewer than 4")
    if points[0] != points[-1]:
        raise _ItemProblem("polygon is not closed: its first and last points differ")
    return Polygon(points=points)


def _circle(text: str) -> Circle:
    parts = text.split()
    if len(parts) != 2:
        raise _ItemProblem(f"circle {text[:80]!r} is not 'lat,lon radius'")
    latitude, longitude = _point(parts[0], what="circle")
    radius = _float(parts[1])
    if radius is None or radius < 0:
        raise _ItemProblem(f"circle radius {parts[1][:40]!r} is not a distance in km")
    return Circle(latitude=latitude, longitude=longitude, radius_km=radius)


def _point(pair: str, *, what: str) -> tuple[float, float]:
    parts = pair.split(",")
    coordinates = [_float(part) for part in parts]
    if len(coordinates) != 2 or coordinates[0] is None or coordinates[1] is None:
        raise _ItemProblem(f"{what} point {pair[:40]!r} is not 'lat,lon'")
    latitude, longitude = coordinates[0], coordinates[1]
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise _ItemProblem(f"{what} point {pair[:40]!r} is out of range")
    return latitude, longitude


# Reading elements ---------------------------------------------------------------------------


def _child(parent: ET.Element, name: str) -> ET.Element | None:
    """The CAP child ``name`` (in the parent's namespace: CAP does not mix its versions)."""
    return parent.find(f"{{{namespace(parent)}}}{name}")


def _children(parent: ET.Element, name: str) -> list[ET.Element]:
    return parent.findall(f"{{{namespace(parent)}}}{name}")


def _text(element: ET.Element | None) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def _required(root: ET.Element, name: str) -> str:
    value = _text(_child(root, name))
    if not value:
        raise DocumentRefused(f"{name} is missing")
    return value


# Values ---------------------------------------------------------------------------------------


def _aware_datetime(text: str) -> datetime | None:
    """A CAP date and time (``2002-05-24T16:49:00-07:00``) in UTC, or None; one without a
    time zone is None too, as CAP requires one."""
    try:
        parsed = datetime.fromisoformat(text.strip())
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            return None
        # Converting may overflow at the ends of the calendar (year 1 at +09:00).
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _is_japanese(language: str) -> bool:
    return language.lower() == "ja" or language.lower().startswith("ja-")


def _is_english(language: str) -> bool:
    return language.lower() == "en" or language.lower().startswith("en-")


def _collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


def _unique[T](values: Iterable[T]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(values))
