"""Reading MIND's news.tsv and behaviors.tsv: what reads, and every malformed line refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from recommendations.evaluation.mind import (
    MindFormatError,
    MindNews,
    read_behaviors,
    read_news,
)
from tests.recommendations.fixtures import make_mind_tiny
from tests.recommendations.mind_data import MIND_TINY

GOOD_BEHAVIOR = "1\tU1\t11/9/2019 6:42:51 PM\tN1 N2\tN3-1 N4-0"
GOOD_NEWS = "N1\tbousai\t防災\t北地区で避難訓練\t訓練のお知らせ\thttps://example.invalid\t[]\t[]"


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "data.tsv"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_the_fixture_reads_in_full() -> None:
    train_news = read_news(MIND_TINY / "train" / "news.tsv")
    test_news = read_news(MIND_TINY / "test" / "news.tsv")
    train = read_behaviors(MIND_TINY / "train" / "behaviors.tsv")
    test = read_behaviors(MIND_TINY / "test" / "behaviors.tsv")

    assert (len(train_news), len(test_news), len(train), len(test)) == (55, 60, 300, 100)


def test_every_candidate_in_the_fixture_is_a_known_news_item() -> None:
    news = read_news(MIND_TINY / "test" / "news.tsv")
    impressions = read_behaviors(MIND_TINY / "test" / "behaviors.tsv")

    shown = {news_id for impression in impressions for news_id in impression.candidates}
    assert shown <= news.keys()


def test_a_news_line_reads_into_its_fields(tmp_path: Path) -> None:
    news = read_news(write(tmp_path, GOOD_NEWS))

    assert news == {"N1": MindNews("N1", "bousai", "防災", "北地区で避難訓練", "訓練のお知らせ")}


@pytest.mark.parametrize("columns", [5, 6, 7])
def test_news_lines_may_lack_the_url_and_entity_columns(tmp_path: Path, columns: int) -> None:
    line = "\t".join(GOOD_NEWS.split("\t")[:columns])

    assert read_news(write(tmp_path, line))["N1"].title == "北地区で避難訓練"


def test_an_impression_line_reads_into_its_fields(tmp_path: Path) -> None:
    (impression,) = read_behaviors(write(tmp_path, GOOD_BEHAVIOR))

    assert impression.impression_id == "1"
    assert impression.user_id == "U1"
    assert impression.history == ("N1", "N2")
    assert impression.candidates == ("N3", "N4")
    assert impression.labels == (1, 0)
    assert impression.clicked == ("N3",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11/9/2019 6:42:51 PM", datetime(2019, 11, 9, 18, 42, 51, tzinfo=UTC)),
        ("11/9/2019 6:42:51 AM", datetime(2019, 11, 9, 6, 42, 51, tzinfo=UTC)),
        ("11/14/2019 12:05:00 AM", datetime(2019, 11, 14, 0, 5, tzinfo=UTC)),
        ("11/14/2019 12:05:00 PM", datetime(2019, 11, 14, 12, 5, tzinfo=UTC)),
    ],
)
def test_times_read_as_aware_utc_on_a_twelve_hour_clock(
    tmp_path: Path, text: str, expected: datetime
) -> None:
    (impression,) = read_behaviors(write(tmp_path, f"1\tU1\t{text}\t\tN1-1"))

    assert impression.time == expected
    assert impression.time.utcoffset() is not None


def test_an_empty_history_reads_as_no_history(tmp_path: Path) -> None:
    (impression,) = read_behaviors(write(tmp_path, "1\tU1\t11/9/2019 6:42:51 PM\t\tN1-1"))

    assert impression.history == ()


def test_an_unlabelled_file_reads_with_no_labels(tmp_path: Path) -> None:
    impressions = read_behaviors(
        write(
            tmp_path,
            "1\tU1\t11/15/2019 8:00:00 AM\tN1\tN3 N4",
            "2\tU2\t11/15/2019 9:00:00 AM\t\tN5",
        )
    )

    assert [impression.labels for impression in impressions] == [None, None]
    assert impressions[0].candidates == ("N3", "N4")
    assert impressions[0].clicked == ()


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        pytest.param("1\tU1\t11/9/2019 6:42:51 PM\tN1", "expected 5", id="too-few-columns"),
        pytest.param(GOOD_BEHAVIOR + "\textra", "found 6", id="too-many-columns"),
        pytest.param("", "found 1", id="blank-line"),
        pytest.param("2\tU1\t2019-11-09 18:42:51\t\tN1-1", "bad time", id="iso-time"),
        pytest.param("2\tU1\t2/30/2019 6:42:51 PM\t\tN1-1", "bad time", id="no-such-day"),
        pytest.param("2\tU1\t11/9/2019 13:42:51 PM\t\tN1-1", "bad time", id="hour-13"),
        pytest.param("2\tU1\t11/9/2019 6:42:51 PM\t\tN1-2", "not 0 or 1", id="label-2"),
        pytest.param("2\tU1\t11/9/2019 6:42:51 PM\t\tN1-x", "not 0 or 1", id="label-x"),
        pytest.param("2\tU1\t11/9/2019 6:42:51 PM\t\t-1", "no news id", id="no-news-id"),
        pytest.param("2\tU1\t11/9/2019 6:42:51 PM\tN1\t", "no candidate", id="no-candidates"),
        pytest.param("2\tU1\t11/9/2019 6:42:51 PM\t\tN1-1 N2", "on one line", id="mixed-line"),
        pytest.param("2\tU1\t11/9/2019 6:42:51 PM\t\tN2", "unlabelled", id="mixed-file"),
        pytest.param("1\tU2\t11/9/2019 7:00:00 PM\t\tN1-1", "already on line 1", id="dup-id"),
        pytest.param("\tU1\t11/9/2019 6:42:51 PM\t\tN1-1", "empty impression id", id="no-id"),
    ],
)
def test_a_malformed_impression_line_is_refused_naming_the_line(
    tmp_path: Path, bad_line: str, reason: str
) -> None:
    path = write(tmp_path, GOOD_BEHAVIOR, bad_line, GOOD_BEHAVIOR.replace("1", "9", 1))

    with pytest.raises(MindFormatError, match=reason) as raised:
        read_behaviors(path)

    assert raised.value.line == 2
    assert raised.value.path == path
    assert str(raised.value).startswith(f"{path}:2: ")


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        pytest.param("N2\tbousai\t防災\t題", "found 4", id="too-few-columns"),
        pytest.param(GOOD_NEWS.replace("N1", "N2") + "\textra", "found 9", id="too-many-columns"),
        pytest.param(GOOD_NEWS, "news id N1 already on line 1", id="duplicate-id"),
        pytest.param(GOOD_NEWS.replace("N1", ""), "empty news id", id="empty-id"),
    ],
)
def test_a_malformed_news_line_is_refused_naming_the_line(
    tmp_path: Path, bad_line: str, reason: str
) -> None:
    path = write(tmp_path, GOOD_NEWS, bad_line)

    with pytest.raises(MindFormatError, match=reason) as raised:
        read_news(path)

    assert raised.value.line == 2
    assert str(raised.value).startswith(f"{path}:2: ")


def test_a_format_error_is_a_value_error() -> None:
    assert issubclass(MindFormatError, ValueError)


def test_the_fixture_is_exactly_what_its_seeded_script_writes(tmp_path: Path) -> None:
    make_mind_tiny.main(tmp_path)

    for part in ("train/news.tsv", "train/behaviors.tsv", "test/news.tsv", "test/behaviors.tsv"):
        assert (tmp_path / part).read_bytes() == (MIND_TINY / part).read_bytes(), part
