"""Rate series → the geometry of a line chart, drawn as inline SVG by the templates.

Computed here rather than in the browser: the page needs no script to show its numbers, and
tests can read every point's value from the markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from patronkit.core.insights import RateSeries

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 12, 32
MAX_LINES = 6  # one CSS colour class each: series-0 … series-5


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    at: str  # ISO time of the period end
    label: str  # the period end as shown
    numerator: int
    denominator: int
    rate: float

    @property
    def percent(self) -> str:
        return f"{self.rate * 100:.1f}%"


@dataclass(frozen=True)
class ChartLine:
    label: str
    css_class: str
    segments: tuple[str, ...]  # SVG polyline point lists; a period without data breaks the line
    points: tuple[ChartPoint, ...]
    cells: tuple[str, ...]  # per period, for the table under the chart ("—": no data)


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    lines: tuple[ChartLine, ...]
    x_ticks: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    period_labels: tuple[str, ...]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return not any(line.points for line in self.lines)


def _x(i: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return round(LEFT + (span * i / (count - 1) if count > 1 else span / 2), 1)


def _y(rate: float) -> float:
    return round(TOP + (1 - rate) * (HEIGHT - TOP - BOTTOM), 1)


def rate_chart(
    series: Sequence[RateSeries], title: str, description: str, date_format: str = "%d %b"
) -> Chart:
    """A chart of rates between 0 and 1, one line per series (at most MAX_LINES)."""
    ends = [point.at for point in series[0].points] if series else []
    labels = tuple(at.strftime(date_format) for at in ends)
    lines = []
    for n, one in enumerate(series[:MAX_LINES]):
        points: list[ChartPoint] = []
        segments: list[list[str]] = [[]]
        cells: list[str] = []
        for i, point in enumerate(one.points):
            rate = point.rate
            if rate is None:
                cells.append("—")
                if segments[-1]:
                    segments.append([])
                continue
            chart_point = ChartPoint(
                _x(i, len(ends)),
                _y(rate),
                point.at.isoformat(),
                labels[i],
                point.numerator,
                point.denominator,
                rate,
            )
            points.append(chart_point)
            cells.append(f"{chart_point.percent} ({point.numerator} of {point.denominator})")
            segments[-1].append(f"{chart_point.x},{chart_point.y}")
        lines.append(
            ChartLine(
                one.label,
                f"series-{n}",
                tuple(" ".join(s) for s in segments if len(s) > 1),
                tuple(points),
                tuple(cells),
            )
        )
    step = max(1, len(ends) // 6)
    x_ticks = tuple((_x(i, len(ends)), labels[i]) for i in range(0, len(ends), step))
    y_ticks = tuple((_y(r / 4), f"{r * 25}%") for r in range(5))
    return Chart(title, description, tuple(lines), x_ticks, y_ticks, labels)
