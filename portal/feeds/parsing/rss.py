"""RSS 0.9x, 1.0 and 2.0 and Atom feeds → one ``Item`` per entry (city news).

feedparser knows the many shapes of feeds, but it is a lenient parser of untrusted XML: the
bytes go through ``parse_xml`` (defusedxml) first, so a DTD, an entity, an external reference
or an oversized document is refused before feedparser sees it.

An entry's series is its id (or link) within its feed; its version changes when its title,
text or link do, so an edited entry supersedes what was shown and an unchanged one is the same
version on every fetch.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser  # type: ignore[import-untyped]

from portal.feeds.parsing.documents import (
    SERIES_MAX_LENGTH,
    DocumentRefused,
    Item,
    ItemAction,
    ItemRefusal,
    ParsedDocument,
    bounded_identity,
)
from portal.feeds.parsing.text import (
    markdown_from_html,
    markdown_safe_text,
    plain_text,
    single_line,
)
from portal.feeds.parsing.xml import local_name, parse_xml

SOURCE = "rss"
# Root elements of RSS 0.9x/2.0 (<rss>), RSS 0.90/1.0 (<rdf:RDF>) and Atom (<feed>).
FEED_ROOTS = {"rss", "RDF", "feed"}
_HTML_START = re.compile(rb"<!doctype\s+html|<html[\s>]")
UTF8_BOM = b"\xef\xbb\xbf"
REFERENCE_MAX_LENGTH = 200
SUMMARY_MAX_LENGTH = 200
HTML_TYPES = {"text/html", "application/xhtml+xml"}
# Far more than a news entry holds; beyond it, cleaning deeply nested HTML (nh3 takes seconds
# for ten thousand levels) would let one entry stall a whole poll.
ENTRY_TEXT_MAX_CHARS = 100_000


def parse_feed(data: bytes, *, feed_url: str = "") -> ParsedDocument:
    """The notices an RSS or Atom feed makes, one per entry; an entry that cannot be one is
    refused on its own while the rest go on."""
    _refuse_what_is_not_a_feed(data)
    # A stream, never bytes or str: feedparser tries to open those as a file name or URL.
    parsed = feedparser.parse(io.BytesIO(data))
    version = str(parsed.get("version") or "")
    entries = list(parsed.get("entries") or [])
    if not version and not entries:
        reason = parsed.get("bozo_exception") or "feedparser found neither RSS nor Atom"
        raise DocumentRefused(f"not an RSS or Atom feed: {reason}")
    feed: Mapping[str, Any] = parsed.get("feed") or {}
    in_english = str(feed.get("language") or "").lower().startswith("en")
    feed_updated = _date_of(feed, "updated_parsed")
    items: dict[str, Item] = {}
    refused: list[ItemRefusal] = []
    for position, entry in enumerate(entries, start=1):
        try:
            item = _item(entry, feed_url=feed_url, in_english=in_english, fallback=feed_updated)
        except _EntryRefused as refusal:
            refused.append(ItemRefusal(_reference(entry, feed_url, position), refusal.reason))
            continue
        # A feed listing the same entry twice is one version, not two.
        items.setdefault(item.version_id, item)
    # Cut before cleaning: only the first words are shown, and nh3 is slow on deep nesting.
    title = plain_text(str(feed.get("title") or feed_url or "untitled feed")[:1000], limit=120)
    return ParsedDocument(
        source=SOURCE,
        summary=f"{version or 'feed'}: {title} ({len(entries)} entries)"[:SUMMARY_MAX_LENGTH],
        items=tuple(items.values()),
        refused=tuple(refused),
    )


class _EntryRefused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _refuse_what_is_not_a_feed(data: bytes) -> None:
    # Told apart before parse_xml, which would refuse <!DOCTYPE html> as a DTD and so give an
    # operator who entered the site's address instead of its feed's the wrong reason.
    if _is_html_page(data[:4096]):
        raise DocumentRefused("not an RSS or Atom feed: an HTML page")
    root = parse_xml(data)
    if local_name(root) not in FEED_ROOTS:
        raise DocumentRefused(f"not an RSS or Atom feed: root {root.tag[:120]}")


def _is_html_page(head: bytes) -> bool:
    """Whether the document's first element or declaration is HTML's, past any XML
    declaration, processing instructions and comments.

    A loop rather than one regular expression: a pattern that skips any number of comments
    backtracks exponentially on a document of many comments that is not HTML.
    """
    head = head.removeprefix(UTF8_BOM).lower()
    while True:
        head = head.lstrip()
        if head.startswith(b"<!--"):
            end = head.find(b"-->")
            if end < 0:
                return False
            head = head[end + 3 :]
        elif head.startswith(b"<?"):
            end = head.find(b"?>")
            if end < 0:
                return False
            head = head[end + 2 :]
        else:
            return _HTML_START.match(head) is not None


def _item(
    entry: Mapping[str, Any], *, feed_url: str, in_english: bool, fallback: datetime | None
) -> Item:
    title = _title(entry)
    if not title:
        raise _EntryRefused("no title")
    updated = _date_of(entry, "updated_parsed")
    version_at = updated or _date_of(entry, "published_parsed") or fallback
    if version_at is None:
        raise _EntryRefused("no date")
    body = _body(entry)
    link = _web_link(str(entry.get("link") or ""), feed_url)
    series = _series(entry, link)
    fingerprint = hashlib.sha256("\0".join((title, body, link)).encode("utf-8")).hexdigest()
    return Item(
        series=series,
        version_id=f"{series}#{fingerprint[:16]}",
        version_at=version_at,
        action=ItemAction.ISSUE,
        category="city_news",
        urgency="information",
        # The notice needs Japanese text whatever the feed's language: an English feed's text
        # stands in for it, and is the English text as well.
        title_ja=title,
        body_ja=body,
        title_en=title if in_english else "",
        body_en=body if in_english else "",
        link=link,
    )


def _title(entry: Mapping[str, Any]) -> str:
    """The entry's title as plain text: feedparser says whether the feed wrote it as HTML
    (``&lt;b&gt;断水&lt;/b&gt;``) or as text in which '<' is just a character."""
    title = str(entry.get("title") or "")
    if len(title) > ENTRY_TEXT_MAX_CHARS:
        raise _EntryRefused(f"title longer than {ENTRY_TEXT_MAX_CHARS:,} characters")
    if _is_html(entry.get("title_detail")):
        return plain_text(title)
    return single_line(title)


def _is_html(detail: Mapping[str, Any] | None) -> bool:
    return str((detail or {}).get("type") or "text/html") in HTML_TYPES


def _series(entry: Mapping[str, Any], link: str) -> str:
    """``rss:<entry id>``. Not the feed's address: the same feed reached by another address
    (http or https, a path written otherwise) has the same entries. The store keeps each
    source's series apart."""
    key = str(entry.get("id") or "").strip() or link
    if not key:
        title = str(entry.get("title") or "")
        key = "sha256:" + hashlib.sha256(title.encode("utf-8")).hexdigest()
    return bounded_identity(f"rss:{key}", SERIES_MAX_LENGTH)


def _body(entry: Mapping[str, Any]) -> str:
    # Full content (Atom <content>, RSS <content:encoded>) over the summary when there is one.
    for detail in [*(entry.get("content") or []), entry.get("summary_detail") or {}]:
        value = str(detail.get("value") or "")
        if len(value) > ENTRY_TEXT_MAX_CHARS:
            raise _EntryRefused(f"text longer than {ENTRY_TEXT_MAX_CHARS:,} characters")
        if value.strip():
            if _is_html(detail):
                return markdown_from_html(value)
            return markdown_safe_text(value)
    return ""


def _web_link(link: str, feed_url: str) -> str:
    """The entry's page if it is on the web; a relative link is read against the feed's own
    address, anything else (javascript:, a file path) is dropped."""
    if not link.strip():
        return ""
    try:
        absolute = urljoin(feed_url, link.strip()) if feed_url else link.strip()
        parts = urlsplit(absolute)
    except ValueError:  # "http://[::1" and the like: no address to follow
        return ""
    if parts.scheme.lower() in {"http", "https"} and parts.netloc:
        return absolute
    return ""


def _date_of(element: Mapping[str, Any], key: str) -> datetime | None:
    """feedparser's UTC ``struct_time`` as an aware datetime; None for none or nonsense.

    Read with ``dict.get``: feedparser's own lookup answers a missing ``updated_parsed`` with
    ``published_parsed`` and a DeprecationWarning, and the fallbacks here are explicit.
    """
    parsed: time.struct_time | None = dict.get(element, key) if isinstance(element, dict) else None
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _reference(entry: Mapping[str, Any], feed_url: str, position: int) -> str:
    """How the run record names a refused entry: its id or link, else its place in the feed."""
    name = str(entry.get("id") or entry.get("link") or "").strip()
    return (name or f"{feed_url} entry {position}".strip())[:REFERENCE_MAX_LENGTH]
