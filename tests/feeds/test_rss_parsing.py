"""RSS and Atom feeds → one city-news item per entry, their HTML made into safe Markdown."""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.feeds.parsing import text
from portal.feeds.parsing.documents import DocumentRefused, Item, ItemAction, ParsedDocument
from portal.feeds.parsing.rss import parse_feed
from portal.feeds.parsing.text import markdown_from_html, markdown_safe_text
from portal.notices.models import Category, Urgency
from portal.notices.rendering import markdown_problems, render_markdown

KANPO = Path(__file__).parent / "fixtures" / "rss_atom" / "kanpo_unofficial_feed_2025-07-24.xml"
KANPO_URL = "https://testkun08080.github.io/action-kanpo/feed.xml"
CITY_FEED = "https://www.city.aizuwakamatsu.example/news/rss.xml"
A_DATE = "Wed, 23 Jul 2025 23:39:21 GMT"


def rss_item(
    *,
    title: str | None = "市役所からのお知らせ",
    description: str = "<p>本文</p>",
    guid: str | None = "news-1",
    link: str | None = "https://www.city.aizuwakamatsu.example/news/1.html",
    date: str | None = A_DATE,
) -> str:
    parts = []
    if title is not None:
        parts.append(f"<title>{escape(title)}</title>")
    if link is not None:
        parts.append(f"<link>{escape(link)}</link>")
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{escape(guid)}</guid>')
    if date is not None:
        parts.append(f"<pubDate>{date}</pubDate>")
    parts.append(f"<description><![CDATA[{description}]]></description>")
    return "<item>" + "".join(parts) + "</item>"


def rss_feed(
    items: Sequence[str], *, language: str = "ja", channel_extra: str = "", prologue: str = ""
) -> bytes:
    channel = (
        "<title>会津若松市 新着情報</title><link>https://www.city.aizuwakamatsu.example/</link>"
        f"<description>新着</description><language>{language}</language>{channel_extra}"
    )
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?>{prologue}'
        f'<rss version="2.0"><channel>{channel}{"".join(items)}</channel></rss>'
    )
    return document.encode()


def only_item(document: ParsedDocument) -> Item:
    assert len(document.items) == 1, document
    return document.items[0]


def refusal_of(data: bytes) -> str:
    with pytest.raises(DocumentRefused) as refused:
        parse_feed(data)
    return refused.value.reason


# The official gazette feed ---------------------------------------------------------------------


def kanpo() -> ParsedDocument:
    return parse_feed(KANPO.read_bytes(), feed_url=KANPO_URL)


def test_the_gazette_feed_makes_one_item_per_entry() -> None:
    document = kanpo()
    assert document.source == "rss"
    assert len(document.items) == 12
    assert document.refused == ()


def test_the_gazette_feed_titles_are_its_entry_titles_with_their_ideographic_spaces() -> None:
    titles = [item.title_ja for item in kanpo().items]
    assert titles[0] == "令和7年7月24日（本紙\u3000第1513号）"
    assert titles[1] == "令和7年7月24日（号外\u3000第169号）"
    assert len(set(titles)) == 12


def test_the_gazette_feed_entries_are_japanese_city_news_for_information() -> None:
    for item in kanpo().items:
        assert item.category == Category.CITY_NEWS
        assert item.urgency == Urgency.INFORMATION
        assert item.action is ItemAction.ISSUE
        assert (item.title_en, item.body_en) == ("", "")


def test_the_gazette_feed_cdata_body_becomes_markdown_that_passes_the_staff_checks() -> None:
    item = kanpo().items[0]
    assert item.body_ja.startswith("令和7年7月24日（本紙\u3000第1513号）が発行されました。")
    assert "https://www.kanpo.go.jp/20250724/20250724h01513/pdf/" in item.body_ja
    assert markdown_problems(item.body_ja) == []


def test_the_gazette_feed_entry_links_to_its_pdf() -> None:
    item = kanpo().items[0]
    assert item.link == (
        "https://www.kanpo.go.jp/20250724/20250724h01513/pdf/20250724h01513full00010032.pdf"
    )


def test_the_gazette_feed_entries_date_from_their_pub_date() -> None:
    assert kanpo().items[0].version_at == datetime(2025, 7, 23, 23, 39, 21, tzinfo=UTC)


def test_the_gazette_feed_series_is_the_guid_within_the_feed() -> None:
    item = kanpo().items[0]
    assert item.series == f"rss:{item.link}"
    assert re.fullmatch(re.escape(item.series) + r"#[0-9a-f]{16}", item.version_id)


def test_the_same_feed_parsed_twice_gives_the_same_versions() -> None:
    assert [item.version_id for item in kanpo().items] == [i.version_id for i in kanpo().items]


# Identity ---------------------------------------------------------------------------------------


def test_an_edited_entry_is_a_new_version_of_the_same_series() -> None:
    before = only_item(parse_feed(rss_feed([rss_item(title="除雪のお知らせ")])))
    after = only_item(parse_feed(rss_feed([rss_item(title="除雪のお知らせ（訂正）")])))
    assert before.series == after.series
    assert before.version_id != after.version_id


def test_the_same_feed_read_from_two_addresses_makes_the_same_series() -> None:
    # The store keeps sources apart (tests/feeds/test_ingesting.py); the parser does not make
    # http and https, or two spellings of a path, into two feeds.
    data = rss_feed([rss_item(guid="1")])
    first = only_item(parse_feed(data, feed_url="http://a.example/rss"))
    second = only_item(parse_feed(data, feed_url="https://a.example/./rss"))
    assert first.series == second.series


def test_an_entry_without_guid_is_known_by_its_link() -> None:
    item = only_item(parse_feed(rss_feed([rss_item(guid=None)]), feed_url=CITY_FEED))
    assert item.series == "rss:https://www.city.aizuwakamatsu.example/news/1.html"


def test_an_entry_without_guid_or_link_is_known_by_a_hash_of_its_title() -> None:
    item = only_item(parse_feed(rss_feed([rss_item(guid=None, link=None)]), feed_url=CITY_FEED))
    assert re.fullmatch(r"rss:sha256:[0-9a-f]{64}", item.series)


def test_a_long_guid_is_hashed_into_a_series_of_at_most_200_characters() -> None:
    item = only_item(parse_feed(rss_feed([rss_item(guid="g" * 500)]), feed_url=CITY_FEED))
    assert len(item.series) == 200
    assert item.series.startswith("rss:ggg")
    assert len(item.version_id) <= 300


def test_an_entry_listed_twice_is_one_item() -> None:
    assert len(parse_feed(rss_feed([rss_item(), rss_item()])).items) == 1


# Dates ------------------------------------------------------------------------------------------


def test_an_entry_without_a_date_is_refused_and_the_rest_kept() -> None:
    document = parse_feed(
        rss_feed([rss_item(guid="dated"), rss_item(guid="undated", date=None)]), feed_url=CITY_FEED
    )
    assert [item.series for item in document.items] == ["rss:dated"]
    assert [(r.reference, r.reason) for r in document.refused] == [("undated", "no date")]


def test_an_entry_without_a_date_takes_the_feed_date() -> None:
    feed = rss_feed(
        [rss_item(date=None)],
        channel_extra="<lastBuildDate>Thu, 24 Jul 2025 23:38:53 GMT</lastBuildDate>",
    )
    assert only_item(parse_feed(feed)).version_at == datetime(2025, 7, 24, 23, 38, 53, tzinfo=UTC)


def test_an_entry_with_an_unreadable_date_is_refused() -> None:
    document = parse_feed(rss_feed([rss_item(date="sometime soon")]))
    assert document.refused[0].reason == "no date"


# Titles and links -------------------------------------------------------------------------------


def test_an_entry_without_a_title_is_refused_and_the_rest_kept() -> None:
    document = parse_feed(rss_feed([rss_item(guid="a", title=None), rss_item(guid="b")]))
    assert len(document.items) == 1
    assert [(r.reference, r.reason) for r in document.refused] == [("a", "no title")]


def test_a_title_is_plain_text_without_tags() -> None:
    item = only_item(parse_feed(rss_feed([rss_item(title="<b>断水</b>のお知らせ")])))
    assert item.title_ja == "断水のお知らせ"


def test_a_plain_title_keeps_its_angle_brackets() -> None:
    item = only_item(parse_feed(rss_feed([rss_item(title="1 < 2 and 3 > 2")])))
    assert item.title_ja == "1 < 2 and 3 > 2"


def test_a_title_longer_than_the_notice_allows_is_shortened() -> None:
    item = only_item(parse_feed(rss_feed([rss_item(title="お" * 300)])))
    assert len(item.title_ja) == 200


def test_a_link_that_is_not_on_the_web_is_dropped() -> None:
    item = only_item(parse_feed(rss_feed([rss_item(link="javascript:alert(1)")])))
    assert item.link == ""


def test_a_link_that_is_not_a_url_is_dropped() -> None:
    # Found by the mutation test: urllib raises ValueError on an unclosed IPv6 host.
    item = only_item(parse_feed(rss_feed([rss_item(link="https://[2001:db8::1/news")])))
    assert item.link == ""


def test_a_relative_link_is_read_against_the_feed_address() -> None:
    item = only_item(parse_feed(rss_feed([rss_item(link="/news/2.html")]), feed_url=CITY_FEED))
    assert item.link == "https://www.city.aizuwakamatsu.example/news/2.html"


# Bodies -----------------------------------------------------------------------------------------

HOSTILE_HTML = (
    '<p onclick="steal()">お知らせ<script>alert(1)</script></p>'
    '<img src="x" onerror="alert(2)">'
    '<a href="javascript:alert(3)">危ないリンク</a> '
    '<a href="https://www.city.aizuwakamatsu.example/a (b)[c]">市のページ</a>'
    '<iframe src="https://evil.example/"></iframe>'
    '<span style="background:url(javascript:alert(4))">赤字</span>'
    "<style>body{display:none}</style>"
    "&lt;script&gt;alert(5)&lt;/script&gt; [x](javascript:alert(6)) <svg onload=alert(7)></svg>"
    '<a href="data:text/html,&lt;script&gt;alert(8)&lt;/script&gt;">data</a>'
)


def hostile_item() -> Item:
    return only_item(parse_feed(rss_feed([rss_item(description=HOSTILE_HTML)])))


def test_a_hostile_entry_becomes_markdown_that_passes_the_staff_checks() -> None:
    assert markdown_problems(hostile_item().body_ja) == []


def test_a_hostile_entry_keeps_none_of_its_scripts_handlers_frames_or_styles() -> None:
    body = hostile_item().body_ja
    for trace in ["onclick", "steal", "onerror", "onload", "<iframe", "style", "<svg"]:
        assert trace not in body
    # What was inside <script>, onerror, style and <svg>; the escaped "&lt;script&gt;" text
    # (alert(5)) and the Markdown-looking text (alert(6)) stay, as words.
    for payload in ["alert(1)", "alert(2)", "alert(4)", "alert(7)"]:
        assert payload not in body


def test_a_hostile_entry_keeps_its_words_and_its_web_link() -> None:
    body = hostile_item().body_ja
    assert "お知らせ" in body
    assert "危ないリンク" in body
    assert "[市のページ](https://www.city.aizuwakamatsu.example/a%20%28b%29%5Bc%5D)" in body


def test_a_hostile_entry_renders_to_html_without_a_script_link() -> None:
    rendered = str(render_markdown(hostile_item().body_ja))
    assert "javascript:" not in rendered.replace("(javascript:alert(6))", "")
    assert "<script" not in rendered
    assert 'href="data:' not in rendered


def test_text_that_looks_like_html_is_shown_as_text() -> None:
    item = only_item(parse_feed(rss_feed([rss_item(description="<p>&lt;b&gt;太字&lt;/b&gt;</p>")])))
    assert item.body_ja == "\\<b\\>太字\\</b\\>"
    assert markdown_problems(item.body_ja) == []


def test_allowed_html_becomes_markdown() -> None:
    html = (
        "<h2>除雪</h2><p><strong>明朝</strong>から<em>北会津</em>で除雪します。</p>"
        '<ul><li>一</li><li>二</li></ul><p><a href="https://example.com/">詳細</a></p>'
    )
    item = only_item(parse_feed(rss_feed([rss_item(description=html)])))
    assert item.body_ja == (
        "## 除雪\n\n**明朝**から*北会津*で除雪します。\n\n* 一\n* 二\n\n[詳細](https://example.com/)"
    )


def test_a_full_content_is_preferred_to_the_summary() -> None:
    entry = rss_item(description="要約").replace(
        "</item>", "<content:encoded><![CDATA[<p>全文</p>]]></content:encoded></item>"
    )
    feed = rss_feed([entry]).replace(
        b"<rss ", b'<rss xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    )
    assert only_item(parse_feed(feed)).body_ja == "全文"


def test_html_nested_deeper_than_python_recursion_keeps_its_words_as_plain_text() -> None:
    nested = "<blockquote>" * 3000 + "深い引用" + "</blockquote>" * 3000
    item = only_item(parse_feed(rss_feed([rss_item(description=nested)])))
    assert item.body_ja == "深い引用"


def test_an_entry_whose_text_is_longer_than_100000_characters_is_refused() -> None:
    long_entry = rss_item(guid="long", description="<p>" + "雪" * 100_001 + "</p>")
    document = parse_feed(rss_feed([long_entry, rss_item(guid="short")]))
    assert len(document.items) == 1
    assert document.refused[0].reason == "text longer than 100,000 characters"


def test_an_entry_whose_title_is_longer_than_100000_characters_is_refused() -> None:
    document = parse_feed(rss_feed([rss_item(title="雪" * 100_001)]))
    assert document.refused[0].reason == "title longer than 100,000 characters"


def test_should_markdownify_ever_let_html_through_the_words_are_kept_as_plain_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(text, "markdownify", lambda html, **options: "<b>本文</b>")
    assert markdown_from_html("<p>本文 [x](javascript:y)</p>") == "本文 \\[x\\](javascript:y)"


# Languages --------------------------------------------------------------------------------------


def test_an_english_feed_fills_english_and_japanese_alike() -> None:
    entry = rss_item(title="Snow clearing", description="<p>Tomorrow morning.</p>")
    item = only_item(parse_feed(rss_feed([entry], language="en-us")))
    assert (item.title_ja, item.title_en) == ("Snow clearing", "Snow clearing")
    assert item.body_ja == item.body_en == "Tomorrow morning."


# Other kinds of feed ----------------------------------------------------------------------------

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ja">
  <title>会津若松市 お知らせ</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2026-01-17T09:00:00+09:00</updated>
  <link href="https://www.city.aizuwakamatsu.example/"/>
  <entry>
    <title type="html">&lt;b&gt;ごみ収集&lt;/b&gt;の日程変更</title>
    <id>tag:city.aizuwakamatsu.example,2026:news-42</id>
    <link rel="alternate" href="https://www.city.aizuwakamatsu.example/news/42.html"/>
    <updated>2026-01-16T10:30:00+09:00</updated>
    <content type="html">&lt;p&gt;&lt;strong&gt;17日&lt;/strong&gt;は休み&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>広報あいづわかまつ 2月号</title>
    <id>tag:city.aizuwakamatsu.example,2026:news-43</id>
    <content type="text">表紙は &lt;鶴ヶ城&gt; の雪景色 [写真](javascript:x)</content>
  </entry>
</feed>"""


def test_an_atom_feed_makes_one_item_per_entry() -> None:
    document = parse_feed(ATOM.encode(), feed_url=CITY_FEED)
    assert [item.title_ja for item in document.items] == [
        "ごみ収集の日程変更",
        "広報あいづわかまつ 2月号",
    ]


def test_an_atom_entry_has_its_id_link_date_and_html_content() -> None:
    item = parse_feed(ATOM.encode(), feed_url=CITY_FEED).items[0]
    assert item.series == "rss:tag:city.aizuwakamatsu.example,2026:news-42"
    assert item.link == "https://www.city.aizuwakamatsu.example/news/42.html"
    assert item.version_at == datetime(2026, 1, 16, 1, 30, tzinfo=UTC)
    assert item.body_ja == "**17日**は休み"


def test_an_atom_entry_without_a_date_takes_the_feed_updated_date() -> None:
    item = parse_feed(ATOM.encode()).items[1]
    assert item.version_at == datetime(2026, 1, 17, 0, 0, tzinfo=UTC)


def test_an_atom_plain_text_content_is_escaped_not_read_as_html() -> None:
    item = parse_feed(ATOM.encode()).items[1]
    assert item.body_ja == "表紙は \\<鶴ヶ城\\> の雪景色 \\[写真\\](javascript:x)"
    assert markdown_problems(item.body_ja) == []


def test_an_rss_1_0_feed_is_read() -> None:
    rdf = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://www.city.aizuwakamatsu.example/rdf">
    <title>Aizu</title><link>https://www.city.aizuwakamatsu.example/</link><description>d</description>
  </channel>
  <item rdf:about="https://www.city.aizuwakamatsu.example/news/7.html">
    <title>\xe6\x96\xad\xe6\xb0\xb4</title>
    <link>https://www.city.aizuwakamatsu.example/news/7.html</link>
    <dc:date>2026-01-17T09:00:00+09:00</dc:date>
  </item>
</rdf:RDF>"""
    item = only_item(parse_feed(rdf))
    assert item.title_ja == "断水"
    assert item.version_at == datetime(2026, 1, 17, 0, 0, tzinfo=UTC)


def test_an_rss_0_91_feed_is_read() -> None:
    rss091 = b"""<?xml version="1.0"?>
<rss version="0.91"><channel><title>Aizu</title><link>https://a.example/</link>
<description>d</description><language>en</language>
<lastBuildDate>Sat, 17 Jan 2026 00:00:00 GMT</lastBuildDate>
<item><title>Water outage</title><link>https://a.example/7</link>
<description>Ward 3, 10:00 to 12:00</description></item>
</channel></rss>"""
    item = only_item(parse_feed(rss091))
    assert (item.title_ja, item.title_en, item.link) == (
        "Water outage",
        "Water outage",
        "https://a.example/7",
    )
    assert item.version_at == datetime(2026, 1, 17, 0, 0, tzinfo=UTC)


def test_a_feed_of_1000_entries_is_read_whole() -> None:
    entries = [
        rss_item(guid=f"news-{n}", title=f"お知らせ {n}", description=f"<p>本文 {n}</p>")
        for n in range(1000)
    ]
    document = parse_feed(rss_feed(entries), feed_url=CITY_FEED)
    assert len(document.items) == 1000
    assert len({item.series for item in document.items}) == 1000


# Refused documents ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        b"<!DOCTYPE html><html><head><title>Aizu</title></head><body><p>Hi</body></html>",
        b"<html><body><p>not closed</body></html>",
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
    ],
)
def test_an_html_page_is_refused_as_not_a_feed(page: bytes) -> None:
    assert refusal_of(page).startswith("not an RSS or Atom feed")


def test_an_html_page_after_comments_and_an_xml_declaration_is_refused_as_not_a_feed() -> None:
    page = b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- generated -->\n<!DOCTYPE html><html></html>'
    assert refusal_of(page) == "not an RSS or Atom feed: an HTML page"


def test_a_feed_after_thousands_of_comments_is_judged_in_linear_time() -> None:
    # A regular expression skipping comments took seconds for 25 of them, years for these.
    feed = rss_feed([rss_item()], prologue="<!--a-->" * 500)
    assert len(parse_feed(feed).items) == 1


def test_xml_that_is_not_a_feed_is_refused() -> None:
    reason = refusal_of(b'<?xml version="1.0"?><alert xmlns="urn:x"><a/></alert>')
    assert reason == "not an RSS or Atom feed: root {urn:x}alert"


def test_a_feed_root_that_feedparser_cannot_read_as_a_feed_is_refused() -> None:
    # RDF without RSS 1.0's namespace: the root is right, but feedparser finds no feed in it.
    rdf = b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    assert refusal_of(rdf).startswith("not an RSS or Atom feed")


def test_a_feed_with_an_internal_entity_is_refused() -> None:
    laughs = '<!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    feed = rss_feed([rss_item(title="&lol2;")], prologue=laughs).replace(b"&amp;lol2;", b"&lol2;")
    assert "DTD" in refusal_of(feed)


def test_a_feed_with_an_external_entity_is_refused() -> None:
    xxe = '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    feed = rss_feed([rss_item(title="&xxe;")], prologue=xxe).replace(b"&amp;xxe;", b"&xxe;")
    assert "DTD" in refusal_of(feed)


def test_a_feed_that_is_not_well_formed_is_refused() -> None:
    assert "not well-formed" in refusal_of(rss_feed([rss_item()])[:-20])


def test_feedparser_is_given_a_stream_which_it_cannot_take_for_a_file_name_or_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given bytes or str, feedparser tries to open them as a file or fetch them as a URL.
    given: list[object] = []
    real_parse = feedparser.parse

    def spy(source: object) -> object:
        given.append(source)
        return real_parse(source)

    monkeypatch.setattr(feedparser, "parse", spy)
    parse_feed(rss_feed([rss_item()]))
    assert len(given) == 1
    assert hasattr(given[0], "read")


def test_an_empty_document_is_refused() -> None:
    assert refusal_of(b"  ") == "empty document"


# Whatever comes in ------------------------------------------------------------------------------

HTML_PIECES = st.sampled_from(
    [
        "<p>", "</p>", "<a href=\"", "\">", "</a>", "javascript:alert(1)", "https://a.example/",
        "data:text/html,x", "<script>", "</script>", "<img src=x onerror=alert(1)>", "<iframe>",
        "<style>", "</style>", " style=\"x\"", "<b>", "</b>", "<pre>", "</pre>", "<code>",
        "</code>", "<table><tr><td>", "</td></tr></table>", "<li>", "<h2>", "<br>", "&lt;",
        "&gt;", "&amp;", "[", "]", "(", ")", "<", ">", "`", "*", "_", "\\", "!", "#", "-", "\n",
        "1.", "|", "~", "<!--", "-->", "<![CDATA[", "]]>", "&#x6a;avascript:", "mailto:a@b",
        "tel:0242", "会津", " ",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(st.one_of(HTML_PIECES, st.text(max_size=4)), max_size=40).map("".join))
def test_any_html_becomes_markdown_that_passes_the_staff_checks(fragment: str) -> None:
    assert markdown_problems(markdown_from_html(fragment)) == []


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(st.one_of(HTML_PIECES, st.text(max_size=4)), max_size=40).map("".join))
def test_any_plain_text_becomes_markdown_that_passes_the_staff_checks(text: str) -> None:
    assert markdown_problems(markdown_safe_text(text)) == []


def parse_or_refuse(data: bytes) -> None:
    with contextlib.suppress(DocumentRefused):
        parse_feed(data, feed_url=CITY_FEED)


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=2000))
def test_random_bytes_raise_nothing_but_document_refused(data: bytes) -> None:
    parse_or_refuse(data)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    insert=st.binary(max_size=40),
)
def test_a_mutated_feed_raises_nothing_but_document_refused(seed: int, insert: bytes) -> None:
    sample = KANPO.read_bytes()
    rng = random.Random(seed)
    start = rng.randrange(len(sample))
    end = min(len(sample), start + rng.randrange(0, 60))
    parse_or_refuse(sample[:start] + insert + sample[end:])


def test_a_feed_in_an_unknown_encoding_is_refused() -> None:
    # Found by the mutation test: expat raised LookupError for encoding="UTF-80".
    feed = rss_feed([rss_item()]).replace(b'encoding="UTF-8"', b'encoding="UTF-80"')
    assert refusal_of(feed).startswith("unknown character encoding")
