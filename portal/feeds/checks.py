"""Deploy checks of the feeds' settings: a mistyped warning format would skip every warning."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from portal.feeds.parsing.jmaxml import R06_WARNING_TITLE, WARNING_TITLES


@register()
def check_feed_settings(**kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    formats = list(settings.FEEDS_JMA_WARNING_FORMATS)
    if not formats:
        problems.append(
            Error(
                "FEEDS_JMA_WARNING_FORMATS is empty: every JMA weather warning would be skipped.",
                hint="Leave it unset (気象特別警報・警報・注意報) or name the format to take.",
                id="feeds.E001",
            )
        )
    unknown = [
        title
        for title in formats
        if title not in WARNING_TITLES and not R06_WARNING_TITLE.match(title)
    ]
    if unknown:
        problems.append(
            Error(
                f"FEEDS_JMA_WARNING_FORMATS names no JMA warning format: {', '.join(unknown)}",
                hint="Known: "
                + ", ".join(sorted(WARNING_TITLES))
                + ", and 気象警報・注意報（Ｒ０６）（…） with full-width letters.",
                id="feeds.E002",
            )
        )
    if len({title for title in formats if title in WARNING_TITLES}) > 1 or (
        any(title in WARNING_TITLES for title in formats)
        and any(R06_WARNING_TITLE.match(title) for title in formats)
    ):
        problems.append(
            Warning(
                "FEEDS_JMA_WARNING_FORMATS names more than one format of the same warnings: "
                "each warning will make several notices.",
                id="feeds.W001",
            )
        )
    if settings.FEEDS_FETCH_TIMEOUT <= 0:
        problems.append(
            Error("FEEDS_FETCH_TIMEOUT must be a number of seconds above 0.", id="feeds.E003")
        )
    return problems
