"""Parsing untrusted XML safely: defusedxml over the standard library's expat.

Documents from the network are refused, not repaired, when they declare a DTD, entities or
external references (XXE, billion laughs), when they are not well formed, or when they are
larger than the caller allows. Namespaces are checked by the parsers themselves.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - only used for types; parsing is defusedxml's

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from portal.feeds.parsing.documents import DocumentRefused

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ET.Element:
    """The root element of ``data``, or ``DocumentRefused`` saying what is wrong with it."""
    if len(data) > max_bytes:
        raise DocumentRefused(f"document too large: {len(data)} bytes (limit {max_bytes})")
    if not data.strip():
        raise DocumentRefused("empty document")
    try:
        return _parse(data)
    except ValueError as error:
        # expat reads no multi-byte legacy encoding (Shift_JIS, EUC-JP: what many Japanese
        # city sites still send); Python's codecs do, so the text is read in UTF-8 instead.
        return _parse(_as_utf8(data, error))


def _parse(data: bytes) -> ET.Element:
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as refused:
        raise DocumentRefused(
            f"document declares a DTD or entities, which are refused: {type(refused).__name__}"
        ) from None
    except ET.ParseError as error:
        raise DocumentRefused(f"not well-formed XML: {error}") from None
    except LookupError as error:
        # expat asks Python's codecs for an encoding it does not know itself (encoding="UTF-80").
        raise DocumentRefused(f"unknown character encoding: {error}") from None


_DECLARED_ENCODING = re.compile(
    rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']"""
)


def _as_utf8(data: bytes, error: ValueError) -> bytes:
    declared = _DECLARED_ENCODING.match(data[:200])
    if declared is None:
        raise DocumentRefused(f"cannot read the document's encoding: {error}") from None
    encoding = declared.group(1).decode("ascii")
    try:
        text = data.decode(encoding)
    except (LookupError, UnicodeDecodeError) as undecodable:
        raise DocumentRefused(f"not valid {encoding}: {undecodable}"[:200]) from None
    start, end = declared.span(1)
    return (
        data[:start].decode("ascii") + "UTF-8" + text[len(data[:end].decode(encoding)) :]
    ).encode("utf-8")


def local_name(element: ET.Element) -> str:
    """``{namespace}name`` → ``name``."""
    return element.tag.rsplit("}", 1)[-1]


def namespace(element: ET.Element) -> str:
    return element.tag[1:].split("}", 1)[0] if element.tag.startswith("{") else ""
