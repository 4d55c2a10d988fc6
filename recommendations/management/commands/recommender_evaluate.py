"""``manage.py recommender_evaluate``: the production scorer, trained and judged on MIND files.

Research data stays where it is: the command reads the files it is given and keeps nothing.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser, ArgumentTypeError
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from recommendations.evaluation.metrics import Metrics, write_predictions
from recommendations.evaluation.mind import (
    Impression,
    MindFormatError,
    MindNews,
    read_behaviors,
    read_news,
    split_at,
)
from recommendations.evaluation.pipeline import (
    Evaluation,
    NewsCatalogue,
    evaluate_all,
    fitted_model,
    prediction_rows,
)

SCORERS = ("model", "random", "most-popular", "most-recent")
PROTOCOL_TITLES = {
    "strict": "strict (nothing learned from the test impressions)",
    "replay": "replay (each test impression's clicks learned right after scoring it)",
}


class Command(BaseCommand):
    help = (
        "Train the recommender's production scorer on MIND-format training impressions and "
        "report AUC, MRR, nDCG@5 and nDCG@10 on the test impressions, for the model and the "
        "random, most-popular and most-recent baselines. Give either --train-news, "
        "--train-behaviors, --test-news and --test-behaviors, or --news, --behaviors and "
        "--split-at (impressions from that UTC day on are the test)."
    )
    # It reads files and touches no database: it runs where none is set up.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--train-news", type=Path, help="news.tsv of the training part")
        parser.add_argument("--train-behaviors", type=Path, help="behaviors.tsv to train on")
        parser.add_argument("--test-news", type=Path, help="news.tsv of the test part")
        parser.add_argument("--test-behaviors", type=Path, help="behaviors.tsv to judge on")
        parser.add_argument("--news", type=Path, help="one news.tsv (with --split-at)")
        parser.add_argument("--behaviors", type=Path, help="one behaviors.tsv (with --split-at)")
        parser.add_argument(
            "--split-at",
            type=_utc_day,
            help="YYYY-MM-DD: impressions before this UTC day train, the rest test",
        )
        parser.add_argument(
            "--replay", action="store_true", help="report the replay protocol as well"
        )
        parser.add_argument(
            "--predictions-out", type=Path, help="write the model's MIND leaderboard file here"
        )
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument("--seed", type=int, default=0, help="of the random baseline")
        parser.add_argument(
            "--first-shown-from-train",
            action="store_true",
            help="date the news only by the training impressions (news first shown in the test "
            "count as published when scored): by default every impression's candidates, never "
            "its clicks, date a news item, as published_at dates a notice",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The evaluation is sequential anyway: its linear algebra keeps to one core of a shared
        # machine.
        with threadpool_limits(limits=1):
            self._evaluate(options)

    def _evaluate(self, options: dict[str, Any]) -> None:
        news, train_news, train, test = _read_inputs(options)
        if not train or not test:
            raise CommandError(
                f"{len(train)} training and {len(test)} test impressions: both parts need some"
            )
        dated_by = train if options["first_shown_from_train"] else [*train, *test]
        catalogue = NewsCatalogue.build(news=news, train_news=train_news, impressions=dated_by)
        protocols = ("strict", "replay") if options["replay"] else ("strict",)
        try:
            model = fitted_model(catalogue, train)
        except ValueError as error:  # no training impression with a click and a skip
            raise CommandError(str(error)) from error
        if options["predictions_out"] is not None:
            try:
                write_predictions(options["predictions_out"], prediction_rows(model, test))
            except OSError as error:
                raise CommandError(f"cannot write the predictions: {error}") from error
        if all(impression.labels is None for impression in test):
            # MIND's own test set: the leaderboard judges the predictions, nothing to do here.
            self.stdout.write("The test impressions have no labels: nothing to judge.")
            return
        try:
            evaluation = evaluate_all(model, train, test, protocols=protocols, seed=options["seed"])
        except ValueError as error:  # some test impressions unlabelled, or none judgeable
            raise CommandError(str(error)) from error
        if options["json"]:
            report = evaluation.as_dict()
            report["first_shown_from"] = "train" if options["first_shown_from_train"] else "all"
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self.stdout.write(_table(evaluation))


def _utc_day(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    except ValueError as error:
        raise ArgumentTypeError(f"{text!r} is not a date like 2019-11-14") from error


def _read_inputs(
    options: dict[str, Any],
) -> tuple[dict[str, MindNews], dict[str, MindNews], list[Impression], list[Impression]]:
    """Every news item described, the training news, the training and the test impressions."""
    pair = ("train_news", "train_behaviors", "test_news", "test_behaviors")
    single = ("news", "behaviors")
    if options["split_at"] is not None:
        if any(options[name] for name in pair) or not all(options[name] for name in single):
            raise CommandError("--split-at takes --news and --behaviors, and nothing else")
        news = _read(read_news, options["news"])
        train, test = split_at(_read(read_behaviors, options["behaviors"]), options["split_at"])
        return news, news, train, test
    if not all(options[name] for name in pair):
        raise CommandError(
            "give --train-news, --train-behaviors, --test-news and --test-behaviors "
            "(or --news, --behaviors and --split-at)"
        )
    train_news = _read(read_news, options["train_news"])
    test_news = _read(read_news, options["test_news"])
    return (
        {**train_news, **test_news},
        train_news,
        _read(read_behaviors, options["train_behaviors"]),
        _read(read_behaviors, options["test_behaviors"]),
    )


def _read[T](reader: Callable[[Path], T], path: Path) -> T:
    try:
        result: T = reader(path)
    except MindFormatError as error:
        raise CommandError(f"malformed MIND file: {error}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"cannot read {path}: {error}") from error
    return result


def _table(evaluation: Evaluation) -> str:
    lines = [
        f"Trained on {evaluation.train_impressions} impressions "
        f"({evaluation.training_pairs} candidate pairs), "
        f"tested on {evaluation.test_impressions}.",
        "Weights: "
        + ", ".join(f"{name} {weight:.3f}" for name, weight in evaluation.weights.items() if weight)
        + f"; bias {evaluation.bias:.3f}",
    ]
    for protocol, by_scorer in evaluation.metrics.items():
        lines += ["", f"Protocol: {PROTOCOL_TITLES[protocol]}"]
        lines.append(f"  {'scorer':<14}{'AUC':>8}{'MRR':>8}{'nDCG@5':>8}{'nDCG@10':>9}")
        for name in SCORERS:
            lines.append(_row(name, by_scorer[name]))
        judged = by_scorer["model"]
        lines.append(f"  ({judged.judged} impressions judged, {judged.skipped} all one label)")
    return "\n".join(lines)


def _row(name: str, metrics: Metrics) -> str:
    return (
        f"  {name:<14}{metrics.auc:>8.4f}{metrics.mrr:>8.4f}"
        f"{metrics.ndcg5:>8.4f}{metrics.ndcg10:>9.4f}"
    )
