"""``manage.py recommender_evaluate`` on the self-made MIND-format fixture."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from recommendations.evaluation.mind import read_behaviors, write_behaviors
from tests.recommendations.mind_data import MIND_TINY, MIND_TINY_TEST_DAY

SCORERS = ("model", "random", "most-popular", "most-recent")
FIXTURE_FILES = (
    "--train-news",
    str(MIND_TINY / "train" / "news.tsv"),
    "--train-behaviors",
    str(MIND_TINY / "train" / "behaviors.tsv"),
    "--test-news",
    str(MIND_TINY / "test" / "news.tsv"),
    "--test-behaviors",
    str(MIND_TINY / "test" / "behaviors.tsv"),
)


def run(*arguments: str) -> str:
    out = StringIO()
    call_command("recommender_evaluate", *arguments, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def predictions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("predictions") / "prediction.txt"


@pytest.fixture(scope="module")
def table(predictions: Path) -> str:
    return run(*FIXTURE_FILES, "--replay", "--predictions-out", str(predictions))


@pytest.fixture(scope="module")
def report() -> dict:
    return json.loads(run(*FIXTURE_FILES, "--replay", "--json"))


def protocol_section(table: str, protocol: str) -> str:
    start = table.index(f"Protocol: {protocol}")
    end = table.find("Protocol:", start + 1)
    return table[start : end if end > 0 else None]


@pytest.mark.parametrize("protocol", ["strict", "replay"])
def test_the_table_gives_four_metrics_for_the_model_and_every_baseline(
    table: str, protocol: str
) -> None:
    section = protocol_section(table, protocol)

    assert re.search(r"AUC\s+MRR\s+nDCG@5\s+nDCG@10", section)
    for scorer in SCORERS:
        assert re.search(rf"^\s+{scorer}(\s+[01]\.\d{{4}}){{4}}$", section, re.MULTILINE), scorer


def test_without_replay_only_the_strict_protocol_is_reported() -> None:
    table = run(*FIXTURE_FILES)

    assert "Protocol: strict" in table
    assert "Protocol: replay" not in table


def test_the_json_report_parses_with_every_metric_of_every_scorer_in_both_protocols(
    report: dict,
) -> None:
    assert set(report["protocols"]) == {"strict", "replay"}
    assert report["first_shown_from"] == "all"
    for by_scorer in report["protocols"].values():
        assert set(by_scorer) == set(SCORERS)
        for metrics in by_scorer.values():
            assert {"auc", "mrr", "ndcg5", "ndcg10"} <= set(metrics)
            assert 0.0 <= metrics["auc"] <= 1.0
    assert report["training_pairs"] > 0
    assert all(weight >= 0 for weight in report["weights"].values())


def test_news_can_be_dated_by_the_training_impressions_alone() -> None:
    dated_by_train = json.loads(run(*FIXTURE_FILES, "--first-shown-from-train", "--json"))

    assert dated_by_train["first_shown_from"] == "train"
    assert set(dated_by_train["protocols"]["strict"]) == set(SCORERS)


def test_the_model_beats_the_baselines_on_the_fixture(report: dict) -> None:
    strict = report["protocols"]["strict"]

    assert strict["model"]["auc"] > max(strict[name]["auc"] for name in SCORERS[1:])


def test_the_predictions_file_has_the_leaderboard_format(table: str, predictions: Path) -> None:
    test = read_behaviors(MIND_TINY / "test" / "behaviors.tsv")
    lines = predictions.read_text(encoding="utf-8").splitlines()

    assert len(lines) == len(test)
    for line, impression in zip(lines, test, strict=True):
        match = re.fullmatch(r"(\S+) \[(\d+(?:,\d+)*)\]", line)
        assert match, line
        assert match.group(1) == impression.impression_id
        ranks = [int(rank) for rank in match.group(2).split(",")]
        assert sorted(ranks) == list(range(1, len(impression.candidates) + 1))


def test_one_file_pair_split_at_a_day_is_evaluated(tmp_path: Path) -> None:
    behaviors = tmp_path / "behaviors.tsv"
    behaviors.write_text(
        (MIND_TINY / "train" / "behaviors.tsv").read_text(encoding="utf-8")
        + (MIND_TINY / "test" / "behaviors.tsv").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    news = tmp_path / "news.tsv"
    train_lines = (MIND_TINY / "train" / "news.tsv").read_text(encoding="utf-8").splitlines()
    test_lines = (MIND_TINY / "test" / "news.tsv").read_text(encoding="utf-8").splitlines()
    train_ids = {line.split("\t")[0] for line in train_lines}
    news.write_text(
        "\n".join(
            train_lines + [line for line in test_lines if line.split("\t")[0] not in train_ids]
        )
        + "\n",
        encoding="utf-8",
    )

    report = json.loads(
        run(
            "--news",
            str(news),
            "--behaviors",
            str(behaviors),
            "--split-at",
            MIND_TINY_TEST_DAY.date().isoformat(),
            "--json",
        )
    )

    assert report["train_impressions"] == 300
    assert report["test_impressions"] == 100


def test_an_unlabelled_test_set_gets_predictions_and_no_metrics(tmp_path: Path) -> None:
    unlabelled = tmp_path / "behaviors.tsv"
    test = read_behaviors(MIND_TINY / "test" / "behaviors.tsv")
    write_behaviors(unlabelled, [replace(impression, labels=None) for impression in test])
    arguments = list(FIXTURE_FILES)
    arguments[arguments.index("--test-behaviors") + 1] = str(unlabelled)
    predictions = tmp_path / "prediction.txt"

    output = run(*arguments, "--predictions-out", str(predictions))

    assert "no labels" in output
    assert len(predictions.read_text(encoding="utf-8").splitlines()) == len(test)


def test_a_missing_file_is_a_command_error() -> None:
    arguments = list(FIXTURE_FILES)
    arguments[arguments.index("--test-behaviors") + 1] = "/nowhere/behaviors.tsv"

    with pytest.raises(CommandError, match="cannot read /nowhere/behaviors.tsv"):
        run(*arguments)


def test_a_malformed_line_is_a_command_error_naming_the_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "behaviors.tsv"
    broken.write_text("1\tU1\tnot a time\t\tN1-1 N2-0\n", encoding="utf-8")
    arguments = list(FIXTURE_FILES)
    arguments[arguments.index("--train-behaviors") + 1] = str(broken)

    with pytest.raises(CommandError, match=rf"malformed MIND file: {broken}:1: bad time"):
        run(*arguments)


def test_mixing_a_split_day_with_separate_test_files_is_a_command_error() -> None:
    with pytest.raises(CommandError, match="--split-at"):
        run(*FIXTURE_FILES, "--split-at", "2025-11-15")


def test_a_split_day_that_is_not_a_date_is_a_command_error() -> None:
    with pytest.raises(CommandError, match="not a date"):
        run("--news", "n.tsv", "--behaviors", "b.tsv", "--split-at", "yesterday")
