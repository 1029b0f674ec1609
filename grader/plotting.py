"""Geometry for the inline SVG charts of the reports: a line plot and a histogram.

No plotting library: a chart is a handful of polylines, rectangles and tick labels, so this
module computes coordinates and the templates (``_charts.html``) draw them. Values come from
student code: non-finite points are left out (and counted), and a curve spanning more than two
orders of magnitude is drawn on a log scale so that its tail stays readable. A line plot's legend
goes under the plot, never over a curve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from grader.results import Plot

WIDTH, HEIGHT = 560, 300
LEGEND_ROW = 16
LOG_RATIO = 20.0
"""A curve whose largest value is more than this times its smallest is drawn on a log scale:
on a linear one, everything under 1/LOG_RATIO of the top (a converged loss, the least-squares
minimum) lies within a few pixels of the x-axis."""
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 44
COLOURS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad")
DASHES = ("", "6 4", "2 3", "8 3 2 3")


@dataclass(frozen=True)
class Tick:
    at: float
    """Pixel position along the axis."""
    label: str


@dataclass(frozen=True)
class Line:
    label: str
    points: str
    """SVG polyline points, ``"x,y x,y ..."``."""
    colour: str
    dash: str
    dots: tuple[tuple[float, float], ...]
    """The same points as pairs, drawn as markers when a series has few of them."""


@dataclass(frozen=True)
class LineChart:
    """A line plot laid out in a WIDTH x HEIGHT box; the template's context for one plot."""

    title: str
    x_label: str
    y_label: str
    width: int
    height: int
    left: int
    top: int
    inner_width: int
    inner_height: int
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    lines: tuple[Line, ...]
    log_scale: bool
    dropped: int
    """How many non-finite or non-positive (on a log scale) points were left out."""
    legend_top: int
    """Where the legend's first row is: under the plot and its x label."""


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: int


@dataclass(frozen=True)
class BarChart:
    """A histogram laid out in a WIDTH x HEIGHT box."""

    title: str
    x_label: str
    y_label: str
    width: int
    height: int
    left: int
    top: int
    inner_width: int
    inner_height: int
    bars: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * step:
            step *= factor
            break
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    return [first + i * step for i in range(round((last - first) / step) + 1)]


def _label(value: float) -> str:
    return f"{value:.3g}"


@dataclass(frozen=True)
class _Frame:
    """Data ranges mapped onto the inner box; ``log`` maps y through log10 first."""

    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float
    log: bool

    def px(self, x: float) -> float:
        return round(LEFT + (x - self.x_lo) / (self.x_hi - self.x_lo) * INNER_W, 1)

    def py(self, y: float, scaled: bool = False) -> float:
        v = y if scaled or not self.log else math.log10(y)
        return round(TOP + INNER_H - (v - self.y_lo) / (self.y_hi - self.y_lo) * INNER_H, 1)


INNER_W, INNER_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


def _frame(kept: list[list[tuple[float, float]]], log: bool) -> tuple[_Frame, list[float]]:
    xs = [x for points in kept for x, _ in points]
    ys = [math.log10(y) if log else y for points in kept for _, y in points]
    x_lo, x_hi = min(xs), max(xs)
    if x_hi <= x_lo:
        x_hi = x_lo + 1.0
    y_lo, y_hi = min(ys), max(ys)
    if not log:
        y_lo = min(y_lo, 0.0)
    ticks = _nice_ticks(y_lo, y_hi)
    y_lo, y_hi = min(y_lo, ticks[0]), max(y_hi, ticks[-1])
    return _Frame(x_lo, x_hi, y_lo, y_hi if y_hi > y_lo else y_lo + 1.0, log), ticks


def line_chart(plot: Plot) -> LineChart | None:
    """Lay out ``plot``; None when no series has a drawable point."""
    finite = [[(x, y) for x, y in zip(s.x, s.y, strict=True)
               if math.isfinite(x) and math.isfinite(y)] for s in plot.series]
    ys = [y for points in finite for _, y in points]
    if not ys:
        return None
    log = min(ys) > 0 and max(ys) / min(ys) > LOG_RATIO
    kept = [[(x, y) for x, y in points if not log or y > 0] for points in finite]
    dropped = sum(len(s.x) for s in plot.series) - sum(len(p) for p in kept)
    frame, y_ticks = _frame(kept, log)
    lines = tuple(
        Line(s.label, " ".join(f"{frame.px(x)},{frame.py(y)}" for x, y in points),
             COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)],
             tuple((frame.px(x), frame.py(y)) for x, y in points) if len(points) <= 12 else ())
        for i, (s, points) in enumerate(zip(plot.series, kept, strict=True)))
    x_ticks = tuple(Tick(frame.px(t), _label(t)) for t in _nice_ticks(frame.x_lo, frame.x_hi)
                    if frame.x_lo <= t <= frame.x_hi)
    ticks = tuple(Tick(frame.py(t, scaled=True), _label(10**t if log else t)) for t in y_ticks)
    return LineChart(plot.title, plot.x_label, plot.y_label + (" (log scale)" if log else ""),
                     WIDTH, HEIGHT + 8 + LEGEND_ROW * len(lines), LEFT, TOP, INNER_W, INNER_H,
                     x_ticks, ticks, lines, log, dropped, HEIGHT + 4)


def histogram(title: str, x_label: str, labels: Sequence[str],
              counts: Sequence[int]) -> BarChart:
    """Bars of ``counts`` over the bins named by ``labels``."""
    inner_w, inner_h = INNER_W, INNER_H
    top = max(max(counts, default=0), 1)
    ticks = [t for t in _nice_ticks(0, top) if float(t).is_integer()]
    top = max(top, int(ticks[-1]))
    slot = inner_w / max(len(counts), 1)
    bars = tuple(
        Bar(round(LEFT + i * slot + slot * 0.1, 1),
            round(TOP + inner_h - count / top * inner_h, 1),
            round(slot * 0.8, 1), round(count / top * inner_h, 1), label, count)
        for i, (label, count) in enumerate(zip(labels, counts, strict=True)))
    y_ticks = tuple(Tick(round(TOP + inner_h - t / top * inner_h, 1), f"{int(t)}") for t in ticks)
    return BarChart(title, x_label, "submissions", WIDTH, HEIGHT, LEFT, TOP, inner_w, inner_h,
                    bars, y_ticks)
