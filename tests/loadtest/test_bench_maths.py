"""The benchmark's arithmetic and parsing on fixed inputs (nothing timed, no servers)."""

from __future__ import annotations

import math

import pytest

from loadtest import bench, wrk
from loadtest.sections import drain
from loadtest.sections.common import BROKERS
from loadtest.sections.limit import LimitResult
from loadtest.stats import Goal, percentile, ratio, window_rate

# `wrk --latency` output as wrk 4.1 prints it, with the script's status line.
WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:18931/v1/predictions
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    40.66ms   35.19ms   1.31s    74.74%
    Req/Sec   154.32     62.67   260.00     57.89%
  Latency Distribution
     50%  827.00us
     75%   64.18ms
     90%  101.78ms
     99%    1.18s
  12345 requests in 10.01s, 75.83KB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:   1233.27
Transfer/sec:     15.13KB
PREDICTQ-STATUS accepted=12338 refused=7
"""


def test_wrk_parser_reads_counts_rates_and_latencies_in_their_units():
    r = wrk.parse(WRK_OUTPUT)
    assert r.requests == 12345
    assert r.duration_s == pytest.approx(10.01)
    assert r.requests_per_s == pytest.approx(1233.27)
    assert r.p50_ms == pytest.approx(0.827)  # microseconds
    assert r.p90_ms == pytest.approx(101.78)
    assert r.p99_ms == pytest.approx(1180.0)  # seconds
    assert (r.non_2xx, r.socket_errors, r.accepted, r.refused) == (7, 5, 12338, 7)
    assert r.errors == 19


def test_wrk_parser_counts_no_errors_when_wrk_reports_none():
    clean = "\n".join(line for line in WRK_OUTPUT.splitlines()
                      if "Socket errors" not in line and "Non-2xx" not in line)
    r = wrk.parse(clean)
    assert (r.non_2xx, r.socket_errors) == (0, 0)


def test_wrk_parser_refuses_output_without_the_status_line():
    with pytest.raises(ValueError, match="PREDICTQ-STATUS"):
        wrk.parse(WRK_OUTPUT.replace("PREDICTQ-STATUS", "something else"))


def test_lua_script_quotes_bodies_that_contain_long_bracket_closers():
    body = '{"text": "a ]====] b"}'
    script = wrk.lua_script([body, '{"text": "plain"}'])
    assert f"[=====[{body}]=====]" in script
    assert '[====[{"text": "plain"}]====]' in script


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert percentile([3, 1, 2], 50) == 2
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_drain_rate_is_count_over_the_span_of_done_stamps():
    assert window_rate(5, [10.0, 10.5, 11.0, 11.5, 12.0]) == pytest.approx(2.5)
    assert math.isnan(window_rate(1, [3.0]))
    assert math.isnan(window_rate(2, [3.0, 3.0]))


def test_ratio_and_goals():
    assert ratio(3000, 600) == pytest.approx(5.0)
    assert math.isnan(ratio(1, 0))
    assert Goal("drain vs one-by-one", 5.0, 5, at_least=True).met
    assert not Goal("p99", 100.1, 100, at_least=False, unit="ms").met
    assert not Goal("missing", math.nan, 1, at_least=True).met
    assert Goal("p99", 12.0, 50, at_least=False, unit="ms").row()[-1] == "met"


def test_drain_goals_compare_one_worker_cells_with_the_limit():
    cells = [drain.DrainCell(broker, batch, workers, 1000, rate, rate, 0.0, 0.0)
             for broker in BROKERS
             for batch, workers, rate in ((1, 1, 200.0), (1, 2, 300.0),
                                          (32, 1, 1500.0), (32, 2, 2500.0))]
    limit = LimitResult({1: 600.0, 32: 2000.0, 128: 3000.0}, items=512)
    goals = {g.name: g for g in drain.goals(cells, limit, 32)}
    assert goals["rabbitmq: micro-batch drain vs limit (batch 32)"].figure == pytest.approx(75)
    assert goals["embedded: micro-batch vs one-by-one drain"].figure == pytest.approx(7.5)
    assert all(g.met for g in goals.values())


def test_write_sections_replaces_ours_and_keeps_the_others(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\n## Model throughput: single vs batch\n\nkept\n\n"
                   f"{bench.HEADINGS['limit']}\n\nold figures\n", encoding="utf-8")
    sections = [bench.Section(key, f"new {key} figures", "0.1", "0.2", "today", 1.0,
                              "python loadtest/bench.py")
                for key in ("limit", "drain")]
    bench.write_sections(sections, doc)
    text = doc.read_text(encoding="utf-8")
    assert "kept" in text and "old figures" not in text
    assert text.index("## Model throughput") < text.index(bench.HEADINGS["limit"]) \
        < text.index(bench.HEADINGS["drain"])
    assert text.count(bench.HEADINGS["limit"]) == 1
    assert "new limit figures" in text and "new drain figures" in text


def test_summary_lists_every_goal_with_its_section():
    met = Goal("a", 1.0, 0, at_least=True)
    missed = Goal("b", 5.0, 1, at_least=False)
    sections = [bench.Section(key, "body", "1", "2", "today", 10.0, "cmd", goals)
                for key, goals in (("limit", []), ("drain", [met]), ("memory", [missed]))]
    s = bench.summary(sections)
    assert s.key == "summary" and s.seconds == 30.0
    assert "| Worker drain rate | a |" in s.body
    assert "| Worker memory under steady load | b |" in s.body and "**not met**" in s.body


def test_latency_goals_do_not_count_percentiles_of_a_run_with_failures():
    from loadtest.sections import latency

    def row(failures: int, achieved: float) -> latency.LatencyRow:
        return latency.LatencyRow(200.0, achieved, 4000, failures, 0, 1.0,
                                  20.0, 40.0, 90.0, 120.0)

    ok = {g.name: g for g in latency.goals([row(0, 199.0)])}
    assert ok["submit→done p50 at 200/s"].met and ok["submit→done p99 at 200/s"].met
    failed = {g.name: g for g in latency.goals([row(7, 199.0)])}
    assert not failed["submit→done p50 at 200/s"].met
    assert "(7 failed)" in failed["submit→done p50 at 200/s"].row()[1]
    slow = {g.name: g for g in latency.goals([row(0, 120.0)])}
    assert not slow["submit→done p99 at 200/s"].met


def test_intake_table_shows_how_the_api_processes_split_the_connections(tmp_path):
    from loadtest.sections import intake
    from loadtest.sections.common import Config

    result = wrk.WrkResult(requests=10_000, duration_s=10.0, requests_per_s=1000.0,
                           p50_ms=15.0, p90_ms=25.0, p99_ms=40.0, non_2xx=0,
                           socket_errors=0, accepted=10_000, refused=0)
    runs = [intake.IntakeRun("rabbitmq", "single", 1, result, 10_016, 16, [9, 7]),
            intake.IntakeRun("embedded", "single", 1, result, 10_016, 16, None)]
    cfg = Config(sections=("intake",), amqp_url="", model_dir=tmp_path, workdir=tmp_path,
                 command="python loadtest/bench.py")
    text = intake.render(runs, cfg)
    assert "| rabbitmq | single (1/request) | 16 | 9 + 7 | 1,000/s |" in text
    assert "| embedded | single (1/request) | 16 | ? | 1,000/s |" in text
