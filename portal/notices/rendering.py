"""A notice's text: Markdown, rendered by markdown-it-py and sanitised by nh3.

Staff write Markdown, not HTML: ``markdown_problems`` refuses raw HTML and links that are not
web, mail or phone links, with a message saying so, before anything is stored. The renderer
escapes HTML anyway and nh3 cleans its output against an allowlist, so a notice that reached the
database by another path (a feed, the admin) still cannot carry a script.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import nh3
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "h2", "h3", "h4", "a",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

# Renders: raw HTML in the source is shown as text, never passed through.
_renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
# Only finds what staff wrote: raw HTML and every link target.
_inspector = MarkdownIt("commonmark", {"html": True}).enable("table")
# The inspector sees every link target, also those the renderer would leave as plain text
# (javascript:, data:), so that the author is told.
_inspector.validateLink = lambda url: True  # type: ignore[method-assign]
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def render_markdown(text: str) -> SafeString:
    """HTML safe to put on a page, whatever ``text`` holds."""
    html = _renderer.render(text)
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - cleaned by nh3 against the allowlist above


def markdown_problems(text: str) -> list[str]:
    """Why ``text`` cannot be a notice's text, in words for the person who wrote it."""
    problems: list[str] = []
    tokens = _inspector.parse(text)
    if any(_holds_html(token) for token in tokens):
        problems.append(
            _("HTML is not allowed in a notice (no scripts, tags or event handlers): use Markdown.")
        )
    for target in _link_targets(tokens):
        match = _SCHEME.match(target.strip())
        if match and match.group(1).lower() not in URL_SCHEMES:
            problems.append(
                _("Links may only lead to web pages, email addresses or phone numbers: %(link)s")
                % {"link": target[:80]}
            )
    return problems


def _holds_html(token: object) -> bool:
    kind = getattr(token, "type", "")
    if kind in {"html_block", "html_inline"}:
        return True
    return any(_holds_html(child) for child in getattr(token, "children", None) or [])


def _link_targets(tokens: Sequence[object]) -> list[str]:
    targets: list[str] = []
    for token in tokens:
        attrs = getattr(token, "attrs", None) or {}
        for name in ("href", "src"):
            if name in attrs:
                targets.append(str(attrs[name]))
        targets += _link_targets(list(getattr(token, "children", None) or []))
    return targets
