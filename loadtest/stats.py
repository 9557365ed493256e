"""The arithmetic of the benchmarks: percentiles, rates, ratios, goals and tables."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by the nearest-rank method: a value that occurred.

    Nearest rank never interpolates, so p99 of 100 samples is the 99th smallest, and
    the maximum is p100. NaN for no values.
    """
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def window_rate(count: int, stamps: Sequence[float]) -> float:
    """`count` items over the span of `stamps` (first to last), per second.

    The drain rate: done jobs over the span of their `updated_at`, so process start-up
    and the polling that notices the end are not counted. NaN if the span is empty.
    """
    if count <= 0 or len(stamps) < 2:
        return math.nan
    span = max(stamps) - min(stamps)
    return count / span if span > 0 else math.nan


def ratio(a: float, b: float) -> float:
    """a / b, NaN when either is missing or b is zero."""
    if math.isnan(a) or math.isnan(b) or b == 0:
        return math.nan
    return a / b


@dataclass(frozen=True)
class Goal:
    """One goal of issue #6 next to the measured figure."""

    name: str
    figure: float
    target: float
    at_least: bool  # True: figure >= target is met; False: figure <= target is met
    unit: str = ""
    caveat: str = ""  # why the figure cannot count (e.g. measured over survivors only)

    @property
    def met(self) -> bool:
        if math.isnan(self.figure) or self.caveat:
            return False
        return self.figure >= self.target if self.at_least else self.figure <= self.target

    def row(self) -> list[str]:
        sign = "≥" if self.at_least else "≤"
        figure = fmt(self.figure, self.unit) + (f" ({self.caveat})" if self.caveat else "")
        return [self.name, figure, f"{sign} {fmt(self.target, self.unit)}",
                "met" if self.met else "**not met**"]


def fmt(value: float, unit: str = "") -> str:
    """Human figures: 1,234/s, 12.3 ms, 5.2×, 48%."""
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if unit == "×":
        return f"{value:.1f}×"
    if unit == "%":
        return f"{value:.1f}%" if abs(value) < 10 else f"{value:.0f}%"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "MiB":
        return f"{value:,.1f} MiB"
    if unit:
        return f"{value:,.0f}{unit}"
    return f"{value:,.0f}" if isinstance(value, float) else f"{value:,}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]],
          right: Sequence[int] = ()) -> str:
    """A Markdown table; columns listed in `right` are right-aligned."""
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def goals_table(goals: Sequence[Goal]) -> str:
    return table(["goal (issue #6)", "measured", "target", ""], [g.row() for g in goals],
                 right=(1, 2))
