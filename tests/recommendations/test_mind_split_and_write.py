"""Splitting impressions by time and writing them back as a behaviors.tsv."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from recommendations.evaluation.mind import read_behaviors, split_at, write_behaviors
from tests.recommendations.mind_data import MIND_TINY, MIND_TINY_TEST_DAY, make_impression

NOON = datetime(2019, 11, 14, 12, tzinfo=UTC)


def test_split_at_puts_earlier_impressions_first_and_the_rest_after_in_time_order() -> None:
    late = make_impression("late", time=NOON + timedelta(hours=2))
    early = make_impression("early", time=NOON - timedelta(hours=2))
    earlier = make_impression("earlier", time=NOON - timedelta(hours=3))
    later = make_impression("later", time=NOON + timedelta(hours=1))

    before, from_then = split_at([late, early, earlier, later], NOON)

    assert before == [earlier, early]
    assert from_then == [later, late]


def test_an_impression_exactly_at_the_split_time_goes_to_the_later_part() -> None:
    on_the_dot = make_impression(time=NOON)

    assert split_at([on_the_dot], NOON) == ([], [on_the_dot])


def test_a_sample_split_by_day_writes_train_and_test_files_that_read_back(
    tmp_path: Path,
) -> None:
    everything = read_behaviors(MIND_TINY / "train" / "behaviors.tsv") + read_behaviors(
        MIND_TINY / "test" / "behaviors.tsv"
    )

    train, test = split_at(everything, MIND_TINY_TEST_DAY)
    write_behaviors(tmp_path / "train.tsv", train)
    write_behaviors(tmp_path / "test.tsv", test)

    assert read_behaviors(tmp_path / "train.tsv") == train
    assert read_behaviors(tmp_path / "test.tsv") == test
    assert (len(train), len(test)) == (300, 100)


def test_written_behaviors_match_the_file_they_were_read_from_byte_for_byte(
    tmp_path: Path,
) -> None:
    original = MIND_TINY / "train" / "behaviors.tsv"

    write_behaviors(tmp_path / "behaviors.tsv", read_behaviors(original))

    assert (tmp_path / "behaviors.tsv").read_bytes() == original.read_bytes()


def test_times_are_written_in_utc_whatever_their_timezone(tmp_path: Path) -> None:
    half_past_six_in_tokyo = datetime(2019, 11, 15, 18, 30, tzinfo=timezone(timedelta(hours=9)))

    write_behaviors(tmp_path / "behaviors.tsv", [make_impression(time=half_past_six_in_tokyo)])

    assert "\t11/15/2019 9:30:00 AM\t" in (tmp_path / "behaviors.tsv").read_text()


def test_unlabelled_impressions_are_written_without_labels(tmp_path: Path) -> None:
    unlabelled = make_impression(candidates=("N1", "N2"), labels=None, history=("N7",))

    write_behaviors(tmp_path / "behaviors.tsv", [unlabelled])

    assert (tmp_path / "behaviors.tsv").read_text() == "1\tU1\t11/9/2019 6:42:51 PM\tN7\tN1 N2\n"
    assert read_behaviors(tmp_path / "behaviors.tsv") == [unlabelled]


def test_labelled_and_unlabelled_impressions_are_not_written_to_one_file(
    tmp_path: Path,
) -> None:
    labelled = make_impression("1")
    unlabelled = make_impression("2", labels=None)

    with pytest.raises(ValueError, match="labelled and unlabelled"):
        write_behaviors(tmp_path / "behaviors.tsv", [labelled, unlabelled])
