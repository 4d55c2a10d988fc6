"""What every parser returns: the same shape for JMA 防災情報XML, CAP and RSS/Atom.

A document holds zero or more *items*; each item is one version of a *series* (a warning for a
prefecture, a CAP alert and its updates, a news entry). The store keeps one live notice per
series: a later version supersedes it, a cancellation withdraws it, a lift ends it, and an older
version arriving late changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class DocumentRefused(Exception):
    """The whole document is refused; ``reason`` says why in words an operator understands."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class DocumentNotForUs(DocumentRefused):
    """Well formed, but nothing this portal publishes: a type it does not take, or about none of
    its areas. A JMA feed of all Japan brings many; they are skipped, not errors of the source."""


class ItemAction(StrEnum):
    # A new version of the series: it becomes the live notice (superseding the previous one).
    ISSUE = "issue"
    # The series was sent in error (JMA 取消, CAP msgType Cancel): its live notice is withdrawn.
    CANCEL = "cancel"
    # What was in force is over (JMA 解除 for every configured area): its live notice expires.
    LIFT = "lift"


@dataclass(frozen=True)
class AreaRef:
    """An area as the source names it: ``scheme`` is ``jma`` (JMA area codes such as
    ``0720200`` 会津若松市 or ``070030`` 会津), or ``cap:<valueName>`` for a CAP geocode (e.g.
    ``cap:JIS``); the city's table maps (scheme, code) to portal areas."""

    scheme: str
    code: str
    name: str = ""


@dataclass(frozen=True)
class Polygon:
    """A CAP polygon: (latitude, longitude) pairs, first and last equal."""

    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Circle:
    latitude: float
    longitude: float
    radius_km: float


@dataclass(frozen=True)
class Item:
    # Identity of the series this version belongs to; at most 200 characters.
    series: str
    # Identity of this version; the same document ingested twice has the same one. At most 300.
    version_id: str
    # When this version was issued (aware); the latest wins within a series.
    version_at: datetime
    action: ItemAction
    # A portal.notices.models.Category value ("disaster", "city_news", …).
    category: str
    # A portal.notices.models.Urgency value.
    urgency: str
    title_ja: str
    # Markdown (portal.notices.rendering); plain text is Markdown too, HTML never is.
    body_ja: str = ""
    title_en: str = ""
    body_en: str = ""
    areas: tuple[AreaRef, ...] = ()
    polygons: tuple[Polygon, ...] = ()
    circles: tuple[Circle, ...] = ()
    expires_at: datetime | None = None
    # JMA 訓練/試験, CAP Exercise/Test: stored, never shown to residents as real.
    is_exercise: bool = False
    # version_ids of earlier versions this one updates or cancels (CAP ``references``).
    references: tuple[str, ...] = ()
    # The item's own web page (RSS/Atom), shown as "read more".
    link: str = ""


@dataclass(frozen=True)
class ItemRefusal:
    """One item refused while the rest of the document goes on (a feed entry, a CAP info)."""

    reference: str
    reason: str


@dataclass(frozen=True)
class ParsedDocument:
    # "jma", "cap" or "rss": the notices Source the items come from.
    source: str
    # A short description for the run record, e.g. "VPWW54 気象警報・注意報 福島地方気象台".
    summary: str
    items: tuple[Item, ...] = ()
    refused: tuple[ItemRefusal, ...] = ()
    # URLs of further documents to fetch (a JMA Atom feed lists documents, it holds none).
    links: tuple[str, ...] = ()
    # Why the document, though well formed, makes no notice (e.g. "not a type we publish").
    notes: tuple[str, ...] = field(default=())


SERIES_MAX_LENGTH = 200
VERSION_ID_MAX_LENGTH = 300


def bounded_identity(identity: str, limit: int) -> str:
    """``identity`` if it fits in ``limit`` characters, else a readable prefix and its SHA-256.

    Identities are compared, never parsed, so a long one only has to stay unique and
    recognisable in the run record: two identities that share the prefix still differ by hash.
    """
    if len(identity) <= limit:
        return identity
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]
    return f"{identity[: limit - len(digest) - 1]}#{digest}"
