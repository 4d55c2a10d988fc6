"""The self-made MIND-format fixture and a builder of impressions for the evaluation tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from recommendations.evaluation.mind import Impression

MIND_TINY = Path(__file__).parent / "fixtures" / "mind_tiny"
MIND_TINY_TEST_DAY = datetime(2025, 11, 15, tzinfo=UTC)


def make_impression(
    impression_id: str = "1",
    *,
    time: datetime = datetime(2019, 11, 9, 18, 42, 51, tzinfo=UTC),
    candidates: tuple[str, ...] = ("N1", "N2"),
    labels: tuple[int, ...] | None = (1, 0),
    user_id: str = "U1",
    history: tuple[str, ...] = (),
) -> Impression:
    return Impression(
        impression_id=impression_id,
        user_id=user_id,
        time=time,
        history=history,
        candidates=candidates,
        labels=labels,
    )
