"""Read and write the MIND news-recommendation format (Wu et al., ACL 2020).

`news.tsv` holds one news item a line; `behaviors.tsv` one impression a line: a user was shown
some candidate news at a time, having clicked the history before, and clicked (label 1) or
skipped (label 0) each candidate. MIND's test set has no labels.

A malformed line raises `MindFormatError` naming the file and line: a half-read file would
silently change what an evaluation measures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

NEWS_COLUMNS_REQUIRED = 5  # NewsID, Category, SubCategory, Title, Abstract
NEWS_COLUMNS_AT_MOST = 8  # ... URL, TitleEntities, AbstractEntities
BEHAVIOR_COLUMNS = 5  # ImpressionID, UserID, Time, History, Impressions

# MIND writes times as "11/9/2019 6:42:51 PM". Parsed by hand because strptime's %p depends
# on the locale.
_MIND_TIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (AM|PM)")


class MindFormatError(ValueError):
    """A line of a MIND file that cannot be read, with where it is and why."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class MindNews:
    news_id: str
    category: str
    subcategory: str
    title: str
    abstract: str


@dataclass(frozen=True)
class Impression:
    impression_id: str
    user_id: str
    time: datetime
    history: tuple[str, ...]
    candidates: tuple[str, ...]
    labels: tuple[int, ...] | None  # None where the file has no labels (MIND's test set)

    @property
    def clicked(self) -> tuple[str, ...]:
        """The candidates clicked; none are known for an unlabelled impression."""
        if self.labels is None:
            return ()
        return tuple(
            news_id
            for news_id, label in zip(self.candidates, self.labels, strict=True)
            if label == 1
        )


def read_news(path: Path) -> dict[str, MindNews]:
    """Every news item of a `news.tsv`, by news id."""
    news: dict[str, MindNews] = {}
    first_line_of: dict[str, int] = {}
    for number, columns in _tab_separated_lines(path):
        if not NEWS_COLUMNS_REQUIRED <= len(columns) <= NEWS_COLUMNS_AT_MOST:
            raise MindFormatError(
                path,
                number,
                f"expected {NEWS_COLUMNS_REQUIRED} to {NEWS_COLUMNS_AT_MOST} tab-separated "
                f"columns, found {len(columns)}",
            )
        news_id, category, subcategory, title, abstract = columns[:NEWS_COLUMNS_REQUIRED]
        if not news_id:
            raise MindFormatError(path, number, "empty news id")
        if news_id in news:
            raise MindFormatError(
                path, number, f"news id {news_id} already on line {first_line_of[news_id]}"
            )
        news[news_id] = MindNews(news_id, category, subcategory, title, abstract)
        first_line_of[news_id] = number
    return news


def read_behaviors(path: Path) -> list[Impression]:
    """Every impression of a `behaviors.tsv`, in file order.

    A file is either labelled throughout (`N123-1`) or unlabelled throughout (`N123`): a mix
    would leave some impressions unjudgeable without anyone noticing.
    """
    impressions: list[Impression] = []
    first_line_of: dict[str, int] = {}
    labelled_file: bool | None = None
    for number, columns in _tab_separated_lines(path):
        impression = _parse_impression(path, number, columns)
        labelled = impression.labels is not None
        if labelled_file is None:
            labelled_file = labelled
        elif labelled != labelled_file:
            raise MindFormatError(path, number, _mixed_labelling(labelled))
        if impression.impression_id in first_line_of:
            raise MindFormatError(
                path,
                number,
                f"impression id {impression.impression_id} already on line "
                f"{first_line_of[impression.impression_id]}",
            )
        first_line_of[impression.impression_id] = number
        impressions.append(impression)
    return impressions


def split_at(
    impressions: Iterable[Impression], at: datetime
) -> tuple[list[Impression], list[Impression]]:
    """The impressions before `at` and those at or after it, each in time order.

    `at` must be timezone-aware, as the impressions' times are.
    """
    in_time_order = sorted(impressions, key=lambda impression: impression.time)
    before = [impression for impression in in_time_order if impression.time < at]
    from_then = [impression for impression in in_time_order if impression.time >= at]
    return before, from_then


def write_behaviors(path: Path, impressions: Sequence[Impression]) -> None:
    """Write impressions as a `behaviors.tsv` that `read_behaviors` reads back unchanged."""
    if len({impression.labels is None for impression in impressions}) > 1:
        raise ValueError("cannot write labelled and unlabelled impressions to one file")
    with path.open("w", encoding="utf-8", newline="\n") as file:
        for impression in impressions:
            file.write(_behavior_line(impression) + "\n")


def format_mind_time(time: datetime) -> str:
    """A time as MIND writes it, in UTC: "11/9/2019 6:42:51 PM"."""
    utc = time.astimezone(UTC)
    hour_on_clock = utc.hour % 12 or 12
    half = "AM" if utc.hour < 12 else "PM"
    return (
        f"{utc.month}/{utc.day}/{utc.year} {hour_on_clock}:{utc.minute:02d}:{utc.second:02d} {half}"
    )


def parse_mind_time(text: str) -> datetime:
    """A MIND time as an aware UTC datetime.

    MIND does not say which timezone its times are in; UTC keeps every comparison well defined.
    """
    match = _MIND_TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"time {text!r} is not like 11/9/2019 6:42:51 PM")
    month, day, year, hour, minute, second = (int(part) for part in match.groups()[:6])
    if not 1 <= hour <= 12:
        raise ValueError(f"time {text!r} has hour {hour}, not 1 to 12")
    hour_of_day = hour % 12 + (12 if match.group(7) == "PM" else 0)
    return datetime(year, month, day, hour_of_day, minute, second, tzinfo=UTC)


def _tab_separated_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    # Only "\n" ends a line: titles may hold other characters Python counts as line breaks.
    with path.open(encoding="utf-8", newline="\n") as file:
        for number, line in enumerate(file, start=1):
            yield number, line.removesuffix("\n").removesuffix("\r").split("\t")


def _parse_impression(path: Path, number: int, columns: list[str]) -> Impression:
    if len(columns) != BEHAVIOR_COLUMNS:
        raise MindFormatError(
            path,
            number,
            f"expected {BEHAVIOR_COLUMNS} tab-separated columns, found {len(columns)}",
        )
    impression_id, user_id, time_text, history_text, candidates_text = columns
    if not impression_id:
        raise MindFormatError(path, number, "empty impression id")
    try:
        time = parse_mind_time(time_text)
    except ValueError as error:
        raise MindFormatError(path, number, f"bad time: {error}") from error
    candidates, labels = _parse_candidates(path, number, candidates_text.split())
    return Impression(
        impression_id=impression_id,
        user_id=user_id,
        time=time,
        history=tuple(history_text.split()),
        candidates=candidates,
        labels=labels,
    )


def _parse_candidates(
    path: Path, number: int, tokens: list[str]
) -> tuple[tuple[str, ...], tuple[int, ...] | None]:
    if not tokens:
        raise MindFormatError(path, number, "no candidate news")
    labelled = ["-" in token for token in tokens]
    if all(labelled):
        pairs = [_parse_labelled_candidate(path, number, token) for token in tokens]
        return tuple(news_id for news_id, _ in pairs), tuple(label for _, label in pairs)
    if any(labelled):
        raise MindFormatError(path, number, "labelled and unlabelled candidates on one line")
    return tuple(tokens), None


def _parse_labelled_candidate(path: Path, number: int, token: str) -> tuple[str, int]:
    news_id, _, label = token.rpartition("-")
    if not news_id:
        raise MindFormatError(path, number, f"candidate {token!r} has no news id")
    if label not in ("0", "1"):
        raise MindFormatError(path, number, f"candidate {token!r} has label {label!r}, not 0 or 1")
    return news_id, int(label)


def _behavior_line(impression: Impression) -> str:
    if impression.labels is None:
        candidates = " ".join(impression.candidates)
    else:
        candidates = " ".join(
            f"{news_id}-{label}"
            for news_id, label in zip(impression.candidates, impression.labels, strict=True)
        )
    return "\t".join(
        (
            impression.impression_id,
            impression.user_id,
            format_mind_time(impression.time),
            " ".join(impression.history),
            candidates,
        )
    )


def _mixed_labelling(labelled: bool) -> str:
    if labelled:
        return "labelled candidates in a file whose first impression is unlabelled"
    return "unlabelled candidates in a file whose first impression is labelled"
