"""The connectors write why they refused or skipped something in English, as their log does;
the staff pages show the reasons they know in the reader's language, the rest as written."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext as _

Translation = Callable[[re.Match[str]], str]

_KNOWN: list[tuple[re.Pattern[str], Translation]] = [
    (
        re.compile(r"^concerns none of the configured areas \((?P<detail>.*)\)$", re.DOTALL),
        lambda m: _("concerns none of the configured areas (%(detail)s)") % {"detail": m["detail"]},
    ),
    (
        re.compile(r"^unsupported JMA information type: (?P<title>.*)$"),
        lambda m: (
            _("a JMA information type the portal does not take: %(title)s") % {"title": m["title"]}
        ),
    ),
    (
        re.compile(
            r"^(?P<title>.*): the same warnings are taken in another format "
            r"\((?P<formats>.*); setting FEEDS_JMA_WARNING_FORMATS\)$"
        ),
        lambda m: (
            _(
                "%(title)s: the same warnings are taken in another format (%(formats)s; setting "
                "FEEDS_JMA_WARNING_FORMATS)"
            )
            % {"title": m["title"], "formats": m["formats"]}
        ),
    ),
    (
        re.compile(r"^intensity below 3 in (?P<where>.*)$"),
        lambda m: _("intensity below 3 in %(where)s") % {"where": m["where"]},
    ),
    (
        re.compile(r"^the server answered HTTP (?P<status>\d+)$"),
        lambda m: _("the server answered HTTP %(status)s") % {"status": m["status"]},
    ),
    (
        re.compile(r"^no answer within (?P<seconds>[\d.]+) s$"),
        lambda m: _("no answer within %(seconds)s seconds") % {"seconds": m["seconds"]},
    ),
    (
        re.compile(
            r"^document (?:too large: \d+ bytes \(limit (?P<a>\d+)\)"
            r"|larger than the limit of (?P<b>\d+) bytes)$"
        ),
        lambda m: (
            _("the document is larger than the limit of %(limit)s bytes")
            % {"limit": m["a"] or m["b"]}
        ),
    ),
    (
        re.compile(r"^the document took too long to arrive$"),
        lambda m: _("the document took too long to arrive"),
    ),
    (
        re.compile(r"^not well-formed XML: (?P<detail>.*)$"),
        lambda m: _("not well-formed XML: %(detail)s") % {"detail": m["detail"]},
    ),
    (
        re.compile(r"^document declares a DTD or entities, which are refused: (?P<detail>.*)$"),
        lambda m: (
            _("the document declares a DTD or entities, which are refused: %(detail)s")
            % {"detail": m["detail"]}
        ),
    ),
    (
        re.compile(r"^dated in the future: (?P<when>.*)$"),
        lambda m: _("dated in the future: %(when)s") % {"when": m["when"]},
    ),
    (
        re.compile(r"^a link to another host than the feed's: not fetched$"),
        lambda m: _("a link to another host than the feed's: not fetched"),
    ),
    (
        re.compile(r"^redirected to another host, not followed: (?P<target>.*)$"),
        lambda m: (
            _("redirected to another host, not followed: %(target)s") % {"target": m["target"]}
        ),
    ),
    (
        re.compile(r"^could not fetch: (?P<detail>.*)$", re.DOTALL),
        lambda m: _("could not fetch: %(detail)s") % {"detail": m["detail"]},
    ),
    (
        re.compile(r"^internal error while reading: (?P<detail>.*)$", re.DOTALL),
        lambda m: (
            _("internal error while reading (see the log): %(detail)s") % {"detail": m["detail"]}
        ),
    ),
    (
        re.compile(r"^not an RSS or Atom feed: (?P<detail>.*)$"),
        lambda m: _("not an RSS or Atom feed: %(detail)s") % {"detail": m["detail"]},
    ),
    (
        re.compile(r"^CAP 1\.0 is not supported$"),
        lambda m: _("CAP 1.0 is not supported"),
    ),
    (
        re.compile(r"^a feed read from a file cannot fetch the documents it lists$"),
        lambda m: _("a feed read from a file cannot fetch the documents it lists"),
    ),
]


def reason_in_language(reason: str) -> str:
    """``reason`` in the active language when it is one the connectors often give."""
    for pattern, translate in _KNOWN:
        match = pattern.match(reason)
        if match:
            return translate(match)
    return reason
