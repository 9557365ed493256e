"""stream_bench's arithmetic on fixed inputs (nothing timed, no servers)."""

from __future__ import annotations

import math

import pytest

from loadtest.stream_bench import cpu_split, slope_per_minute, summary


def test_slope_per_minute_of_a_line():
    samples = [(t, 50.0 + 0.5 * t / 60) for t in range(0, 600, 10)]
    assert slope_per_minute(samples) == pytest.approx(0.5)


def test_slope_per_minute_flat_and_degenerate():
    assert slope_per_minute([(0, 3.0), (10, 3.0), (20, 3.0)]) == pytest.approx(0.0)
    assert math.isnan(slope_per_minute([(0, 3.0)]))
    assert math.isnan(slope_per_minute([(5, 1.0), (5, 2.0)]))


def test_cpu_split_in_cores_with_the_rest_as_other():
    split = cpu_split({"api": 10.0, "client": 2.0}, wall_s=10.0, machine_busy_s=15.0)
    assert split == pytest.approx({"api": 1.0, "client": 0.2, "other": 0.3, "machine": 1.5})


def test_cpu_split_other_never_negative():
    # per-process ticks and /proc/stat are read at slightly different moments
    assert cpu_split({"api": 5.0}, wall_s=5.0, machine_busy_s=4.9)["other"] == 0.0
    assert cpu_split({"api": 1.0}, wall_s=0.0, machine_busy_s=1.0) == {}


def test_summary_nearest_rank():
    s = summary([float(v) for v in range(1, 101)])
    assert (s["n"], s["p50"], s["p99"], s["max"]) == (100, 50.0, 99.0, 100.0)
    assert math.isnan(summary([])["p99"])
