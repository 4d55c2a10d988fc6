"""Line charts of the reports' weekly series, drawn on the server as SVG: they work without
JavaScript, print as sharply as the text, and need no chart library. Every chart is shown with
its table beside it and a text alternative (the template's ``<title>`` and ``<desc>``).

A hidden count ("<10") is a gap in its line, never a point: the chart shows no more than the
table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 40  # margins for the axes' labels


@dataclass(frozen=True)
class Line:
    label: str
    css_class: str  # colour and dash pattern, so lines differ without colour too
    segments: list[str]  # SVG "points" attributes, one per run of shown values


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int


def line_chart(
    x_labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[int | None]]]
) -> Chart:
    """A chart of ``series`` ((label, css class, values or None for hidden)) over ``x_labels``."""
    shown = [value for _label, _css, values in series for value in values if value is not None]
    top = _nice_top(max(shown, default=0))
    width = WIDTH - LEFT - RIGHT
    height = HEIGHT - TOP - BOTTOM
    step = width / max(len(x_labels) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(value: int) -> float:
        return TOP + height - height * value / top

    lines = [
        Line(label=label, css_class=css, segments=_segments(values, x, y))
        for label, css, values in series
    ]
    every = max(1, len(x_labels) // 6)
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        lines=lines,
        x_ticks=[Tick(x(i), label) for i, label in enumerate(x_labels) if i % every == 0],
        # Five steps: a top of 1, 2 or 5 times a power of ten (10 at least) divides into them.
        y_ticks=[Tick(y(top * k // 5), f"{top * k // 5:,}") for k in range(6)],
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=TOP + height,
    )


def _segments(
    values: Sequence[int | None], x: Callable[[int], float], y: Callable[[int], float]
) -> list[str]:
    segments: list[list[str]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append(f"{x(i):.1f},{y(value):.1f}")
    return [" ".join(points) for points in segments if points]


def _nice_top(value: int) -> int:
    """The smallest of 1, 2 or 5 times a power of ten (10 at least) that is at least ``value``,
    so the axis reads in round numbers."""
    top = 10
    while top < value:
        for factor in (2, 2.5, 2):
            top = int(top * factor)
            if top >= value:
                break
    return top
