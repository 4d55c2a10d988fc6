"""Text from feeds made fit for a notice: plain titles, and bodies in Markdown that
``portal.notices.rendering.markdown_problems`` accepts (no raw HTML, only web, mail and phone
links), as staff would have to write them.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import nh3
from markdownify import markdownify

from portal.notices.rendering import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    URL_SCHEMES,
    markdown_problems,
)

TITLE_MAX_LENGTH = 200  # portal.notices.models.Notice.title_ja

# Written so that no two parts can match the same characters: the obvious \s*/?\s* takes
# quadratic time over a long run of spaces.
_LINE_BREAK_TAG = re.compile(r"<\s*(?:br|/?p)(?:\s[^<>]*)?/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# What can turn plain text into HTML or a link in CommonMark: raw HTML and autolinks start
# with '<', links and images with '[', entities with '&'; the backslash is what escapes them.
_MARKDOWN_ACTIVE = re.compile(r"([\\<>\[\]&])")
# Characters a URL may keep as they are inside a Markdown link target: the rest ('(', ')',
# '[', ']', '<', '>', spaces, quotes, backslashes) could end the target early and start
# something else, so they are percent-encoded; the address still leads to the same page.
# Runs of white space, except the ideographic space, which is part of how a Japanese title is
# written (令和7年7月24日（本紙　第1513号）).
_LINE_SPACE = re.compile(r"[^\S\u3000]+")
_SAFE_IN_LINK_TARGET = ":/?#@!$&'*+,;=%~-._"


def markdown_safe_text(text: str) -> str:
    """Plain text as Markdown that shows the same words and can hold no HTML or link.

    Some senders put HTML line breaks in their plain text (a CAP ``&lt;br /&gt;``): those
    become paragraphs and other tags are dropped; whatever is left that Markdown would read as
    HTML or a link is backslash-escaped.
    """
    # A sender's <br> is a line it meant to stand alone; a paragraph keeps it so in Markdown,
    # where a single line break joins the lines.
    text = _LINE_BREAK_TAG.sub("\n\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _TAG.sub("", text)
    text = _MARKDOWN_ACTIVE.sub(r"\\\1", text)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def markdown_from_html(fragment: str) -> str:
    """A feed's HTML as Markdown: cleaned by nh3 against the very allowlist that staff Markdown
    is rendered with, then converted by markdownify.

    What survives the allowlist cannot be a script, a style, an event handler or a link other
    than http(s), mailto and tel; markdownify then escapes text that Markdown would read as
    HTML. Should the result still not pass ``markdown_problems``, the entry's words are kept
    as plain text rather than the entry refused.
    """
    cleaned = nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_quote_link_target,
    )
    try:
        # Wrapped, because BeautifulSoup (under markdownify) warns about markup that looks like
        # a URL or a file name, and a feed entry's whole text is sometimes just its link.
        markdown = markdownify(f"<div>{cleaned}</div>", heading_style="ATX", escape_misc=True)
    except RecursionError:
        # markdownify recurses once per level of nesting: a few hundred nested <blockquote>s
        # exhaust Python's stack. Such an entry keeps its words, as plain text.
        return markdown_safe_text(plain_text(fragment, limit=None))
    markdown = re.sub(r"\n{3,}", "\n\n", markdown.strip())
    if markdown_problems(markdown):
        return markdown_safe_text(plain_text(fragment, limit=None))
    return markdown


def plain_text(fragment: str, *, limit: int | None = TITLE_MAX_LENGTH) -> str:
    """The words of an HTML fragment on one line, shortened to ``limit``."""
    # nh3 with no allowed tag keeps the text and drops tags, and the contents of <script> and
    # <style>; it returns HTML, so entities are decoded afterwards.
    return single_line(html.unescape(nh3.clean(fragment, tags=set())), limit=limit)


def single_line(text: str, *, limit: int | None = TITLE_MAX_LENGTH) -> str:
    """Plain text on one line, shortened to ``limit``: a title as written, '<' and all (the
    page escapes it)."""
    words = _LINE_SPACE.sub(" ", text).strip()
    if limit is None or len(words) <= limit:
        return words
    return words[: limit - 1] + "…"


def _quote_link_target(tag: str, attribute: str, value: str) -> str:
    if tag == "a" and attribute == "href":
        return quote(value, safe=_SAFE_IN_LINK_TARGET)
    return value


# Characters XML 1.0 cannot carry (the Atom feed of notices would fail on them), bidirectional
# overrides and invisible characters that make a title read otherwise than it is stored.
_UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def clean_text(text: str) -> str:
    """``text`` without control, bidirectional-override or zero-width characters."""
    return _UNSAFE_CHARACTERS.sub("", text)


def single_line_text(text: str) -> str:
    """A title: clean, on one line."""
    return single_line(clean_text(text), limit=None)


def limited_body(text: str, *, limit: int = 10_000) -> str:
    """At most ``limit`` characters: every page that shows a notice renders its Markdown, and a
    feed could send megabytes. A longer text is cut at a line and marked as cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    cut = cut[: cut.rfind("\n")] if "\n" in cut[limit // 2 :] else cut
    # A backslash left at the end would escape the marker's first character.
    return cut.rstrip("\\").rstrip() + "\n\n（以下省略 / truncated）"


def markdown_autolink(url: str) -> str:
    """A web address as a Markdown autolink, percent-encoded so that it cannot close the link
    early, show one address and lead to another, or carry anything but the address."""
    return f"<{quote(clean_text(url).strip(), safe=_SAFE_IN_LINK_TARGET)}>"
