"""Bar charts: bullet charts of figures against targets, horizontal bars, and a histogram with a goal."""

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from services.web.charts.svg import (
    ACCENT,
    GOOD,
    INK,
    MUTED,
    PRIMARY,
    SUPPRESSED_FILL,
    TRACK,
    chart,
    line,
    number,
    rect,
    text,
)

WIDTH = 640


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: suppressed (fewer than three leads)
    shown: str = ""  # the value as text; defaults to the Dutch number
    highlight: bool = False


def bullet(title: str, value: float, pro_rata: float, target: float, shown: str, target_shown: str) -> Markup:
    """A bullet chart: the value as a bar, the pro-rata target as a marker, the full target as the scale."""
    scale = max(target, value, 1e-9)
    left, width = 10, WIDTH - 20

    def x(amount: float) -> float:
        return left + width * amount / scale

    body = [
        rect(left, 8, width, 36, TRACK),
        rect(left, 14, x(value) - left, 24, PRIMARY),
        line(x(pro_rata), 2, x(pro_rata), 50, INK, 4),
    ]
    description = (
        f"{title}: {shown}, pro-rata doel {target_shown}, doel programma aan het einde van de schaal."
    )
    return chart(WIDTH, 52, title, description, body)


def horizontal(title: str, bars: Sequence[Bar], *, label_width: int = 220) -> Markup:
    """One bar per row, its value written after it; suppressed values as a grey stub marked <3."""
    step, top = 30, 8
    largest = max([b.value for b in bars if b.value is not None] + [1])
    room = WIDTH - label_width - 120  # leaves room for the value written after the bar
    body: list[str] = []
    for index, bar in enumerate(bars):
        y = top + index * step
        body.append(text(label_width - 8, y + 15, bar.label, anchor="end"))
        length = room * (bar.value or 0) / largest if bar.value is not None else 12
        colour = SUPPRESSED_FILL if bar.value is None else (GOOD if bar.highlight else PRIMARY)
        body.append(rect(label_width, y + 2, length, 20, colour))
        shown = bar.shown or number(bar.value)
        body.append(text(label_width + length + 6, y + 17, shown, fill=INK))
    summary = "; ".join(f"{b.label}: {b.shown or number(b.value)}" for b in bars)
    return chart(WIDTH, top * 2 + step * len(bars), title, summary, body)


def histogram(title: str, bars: Sequence[Bar], goal_label: str) -> Markup:
    """Vertical bars; bars that meet the goal are green and the goal zone is marked."""
    height, bottom, left = 240, 200, 40
    slot = (WIDTH - left - 10) / max(len(bars), 1)
    largest = max([b.value for b in bars if b.value is not None] + [1])
    body = [line(left, bottom, WIDTH - 10, bottom, MUTED, 1)]
    goal_start = next((i for i, b in enumerate(bars) if b.highlight), None)
    if goal_start is not None:
        x = left + slot * goal_start
        body.append(rect(x, 4, WIDTH - 10 - x, bottom - 4, "#e7f3e0"))
        body.append(text(WIDTH - 16, 20, goal_label, anchor="end", fill=GOOD))
    for index, bar in enumerate(bars):
        x = left + slot * index + slot * 0.15
        size = (bottom - 60) * (bar.value or 0) / largest if bar.value is not None else 8
        colour = SUPPRESSED_FILL if bar.value is None else (GOOD if bar.highlight else ACCENT)
        body.append(rect(x, bottom - size, slot * 0.7, size, colour))
        body.append(text(x + slot * 0.35, bottom - size - 6, bar.shown or number(bar.value), anchor="middle"))
        body.append(text(x + slot * 0.35, bottom + 18, bar.label, anchor="middle"))
    summary = "; ".join(f"{b.label}: {b.shown or number(b.value)}" for b in bars)
    return chart(WIDTH, height, title, f"{summary}. {goal_label}.", body)
