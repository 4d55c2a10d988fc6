"""Markdown in, sanitised HTML out (markdown-it-py + nh3), whatever reached the database."""

from __future__ import annotations

from portal.notices.rendering import markdown_problems, render_markdown


def test_markdown_becomes_html() -> None:
    html = render_markdown("## 工事\n\n**3月1日**から\n\n- 北側\n- 南側")
    assert "<h2>工事</h2>" in html
    assert "<strong>3月1日</strong>" in html
    assert "<li>北側</li>" in html


def test_raw_html_that_reached_the_database_is_shown_as_text() -> None:
    html = render_markdown("<script>alert(1)</script>")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_links_get_rel_noopener() -> None:
    html = render_markdown("[市](https://www.city.aizuwakamatsu.fukushima.jp/)")
    assert 'href="https://www.city.aizuwakamatsu.fukushima.jp/"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_a_javascript_link_is_never_a_link() -> None:
    assert "href" not in render_markdown("[x](javascript:alert(1))")


def test_plain_markdown_has_no_problems() -> None:
    assert markdown_problems("**重要** [詳しく](https://example.jp) と電話 [0242](tel:0242)") == []


def test_inline_html_is_a_problem() -> None:
    assert markdown_problems("hello <b onclick=x>there</b>")
