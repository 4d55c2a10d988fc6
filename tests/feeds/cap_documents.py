"""CAP alerts built for a test: a valid CAP 1.2 alert by default, with what the test changes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

CAP_1_2 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_FIXTURES = Path(__file__).parent / "fixtures" / "cap"

HEADER_DEFAULTS: dict[str, str] = {
    "identifier": "JP-072028-TEST-1",
    "sender": "bousai@city.aizuwakamatsu.example",
    "sent": "2026-01-17T05:40:00+09:00",
    "status": "Actual",
    "msgType": "Alert",
    "scope": "Public",
}


def info_xml(
    *,
    language: str | None = "ja-JP",
    event: str = "大雪警報",
    urgency: str = "Expected",
    severity: str = "Severe",
    certainty: str = "Likely",
    headline: str | None = "会津若松市に大雪警報",
    description: str = "北会津地区で大雪のおそれ。",
    instruction: str = "",
    web: str = "",
    expires: str = "",
    areas: Sequence[str] = (),
) -> str:
    parts = [f"<language>{language}</language>" if language is not None else ""]
    parts += [
        "<category>Met</category>",
        f"<event>{escape(event)}</event>",
        f"<urgency>{urgency}</urgency>",
        f"<severity>{severity}</severity>",
        f"<certainty>{certainty}</certainty>",
    ]
    if expires:
        parts.append(f"<expires>{expires}</expires>")
    if headline is not None:
        parts.append(f"<headline>{escape(headline)}</headline>")
    parts.append(f"<description>{escape(description)}</description>")
    if instruction:
        parts.append(f"<instruction>{escape(instruction)}</instruction>")
    if web:
        parts.append(f"<web>{escape(web)}</web>")
    parts += list(areas)
    return "<info>" + "".join(parts) + "</info>"


def area_xml(
    description: str = "会津若松市",
    *,
    geocodes: Sequence[tuple[str, str]] = (),
    polygons: Sequence[str] = (),
    circles: Sequence[str] = (),
) -> str:
    parts = [f"<areaDesc>{escape(description)}</areaDesc>"]
    parts += [f"<polygon>{polygon}</polygon>" for polygon in polygons]
    parts += [f"<circle>{circle}</circle>" for circle in circles]
    parts += [
        f"<geocode><valueName>{name}</valueName><value>{value}</value></geocode>"
        for name, value in geocodes
    ]
    return "<area>" + "".join(parts) + "</area>"


def alert_xml(
    *,
    infos: Sequence[str] | None = None,
    references: str | None = None,
    note: str = "",
    namespace: str = CAP_1_2,
    root: str = "alert",
    omit: Sequence[str] = (),
    **header: str,
) -> bytes:
    """An alert; the header elements named in ``omit`` are left out."""
    values = {**HEADER_DEFAULTS, **header}
    parts = [
        f"<{name}>{escape(value)}</{name}>" for name, value in values.items() if name not in omit
    ]
    if note:
        parts.append(f"<note>{escape(note)}</note>")
    if references is not None:
        parts.append(f"<references>{references}</references>")
    parts += list(infos if infos is not None else [info_xml()])
    body = "".join(parts)
    document = f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{namespace}">{body}</{root}>'
    return document.encode()


def fixture(relative_path: str) -> bytes:
    return (CAP_FIXTURES / relative_path).read_bytes()
