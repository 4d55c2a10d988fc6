"""A mistyped feeds setting is caught by ``manage.py check``, not by a warning that never comes."""

from __future__ import annotations

import pytest

from portal.feeds.checks import check_feed_settings


@pytest.mark.parametrize(
    ("formats", "expected"),
    [
        (["気象特別警報・警報・注意報"], set()),
        (["気象警報・注意報（Ｒ０６）（大雨）", "気象警報・注意報（Ｒ０６）（土砂）"], set()),
        ([], {"feeds.E001"}),
        (["気象警報・注意報(R06)(大雨)"], {"feeds.E002"}),
        (["気象特別警報・警報・注意報", "気象警報・注意報（Ｈ２７）"], {"feeds.W001"}),
        (["気象特別警報・警報・注意報", "気象警報・注意報（Ｒ０６）（大雨）"], {"feeds.W001"}),
    ],
)
def test_the_warning_formats_setting_is_checked(settings, formats, expected) -> None:
    settings.FEEDS_JMA_WARNING_FORMATS = formats

    assert {problem.id for problem in check_feed_settings()} == expected


def test_a_fetch_timeout_of_zero_is_an_error(settings) -> None:
    settings.FEEDS_FETCH_TIMEOUT = 0

    assert "feeds.E003" in {problem.id for problem in check_feed_settings()}
