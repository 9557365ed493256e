"""Scoring detected events and anomaly alerts against the truth (indices = readings)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Interval = tuple[int, int]  # first and last index, inclusive


def iou(a: Interval, b: Interval) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0]) + 1
    if inter <= 0:
        return 0.0
    return inter / ((a[1] - a[0] + 1) + (b[1] - b[0] + 1) - inter)


def match(truth: Sequence[Interval], found: Sequence[Interval],
          min_iou: float = 0.5) -> list[tuple[int, int]]:
    """One-to-one (truth index, found index) pairs with IoU >= min_iou, best IoU first."""
    pairs = []
    j0 = 0
    for i, t in enumerate(truth):  # both sorted by start: only neighbours can overlap
        while j0 < len(found) and found[j0][1] < t[0]:
            j0 += 1
        j = j0
        while j < len(found) and found[j][0] <= t[1]:
            score = iou(t, found[j])
            if score >= min_iou:
                pairs.append((score, i, j))
            j += 1
    used_t, used_f, out = set(), set(), []
    for _, i, j in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
            out.append((i, j))
    return sorted(out)


def prf(tp: int, n_found: int, n_true: int) -> tuple[float, float, float]:
    precision = tp / n_found if n_found else 0.0
    recall = tp / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


@dataclass(frozen=True)
class RangeScore:
    ranges: int  # labelled anomaly ranges
    detected: int  # ranges with an alert inside or within `tolerance` after
    alerts: int  # alert groups (alerts closer than `gap` merged)
    false_alerts: int  # alert groups outside every (tolerance-extended) range
    delays: list[int]  # readings from range start to its first alert, per detected range
    normal_readings: int

    @property
    def precision(self) -> float:
        hits = self.alerts - self.false_alerts
        return hits / self.alerts if self.alerts else 0.0

    @property
    def recall(self) -> float:
        return self.detected / self.ranges if self.ranges else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def false_per_10k(self) -> float:
        return 1e4 * self.false_alerts / self.normal_readings if self.normal_readings else 0.0

    @property
    def mean_delay(self) -> float | None:
        return float(np.mean(self.delays)) if self.delays else None


def ranges_of(mask: np.ndarray) -> list[Interval]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def score_alerts(labels: np.ndarray, alerts: np.ndarray, tolerance: int,
                 gap: int) -> RangeScore:
    """Range-based scores: `labels`, `alerts` are bool per reading (same length)."""
    truth = [(a, min(b + tolerance, len(labels) - 1)) for a, b in ranges_of(labels)]
    idx = np.flatnonzero(alerts)
    groups: list[Interval] = []
    for i in idx.tolist():
        if groups and i - groups[-1][1] <= gap:
            groups[-1] = (groups[-1][0], i)
        else:
            groups.append((i, i))
    detected, delays = 0, []
    for a, b in truth:
        inside = idx[(idx >= a) & (idx <= b)]
        if inside.size:
            detected += 1
            delays.append(int(inside[0] - a))
    false = sum(1 for g in groups
                if not any(g[0] <= b and a <= g[1] for a, b in truth))
    return RangeScore(len(truth), detected, len(groups), false, delays,
                      int((~labels).sum()))
