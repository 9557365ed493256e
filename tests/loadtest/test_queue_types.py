"""The queues section's order, arithmetic and table on fixed inputs (no servers)."""

from __future__ import annotations

import math

import pytest

from loadtest import bench
from loadtest.sections import queues
from loadtest.sections.common import Config


def test_the_types_take_turns_cell_by_cell_round_by_round():
    order = queues.schedule(("classic", "quorum"), 2, ("drain-1", "intake"))
    assert order == [(1, "drain-1", "classic"), (1, "drain-1", "quorum"),
                     (1, "intake", "classic"), (1, "intake", "quorum"),
                     (2, "drain-1", "classic"), (2, "drain-1", "quorum"),
                     (2, "intake", "classic"), (2, "intake", "quorum")]
    assert [t for _, _, t in queues.schedule(("classic", "quorum"), 3)] \
        == ["classic", "quorum"] * 3 * len(queues.CELLS)


def test_cells_for_names_the_drain_and_intake_cells():
    assert queues.cells_for(("drain",)) == ("drain-1", "drain-batch")
    assert queues.cells_for(("drain", "intake")) == queues.CELLS


def _samples() -> list[queues.Sample]:
    return [
        queues.Sample(1, "drain-batch", "classic", {"drain_b": 3000.0, "fill": 2000.0}),
        queues.Sample(1, "drain-batch", "quorum", {"drain_b": 1500.0, "fill": 3000.0}),
        queues.Sample(2, "drain-batch", "classic", {"drain_b": 2000.0, "fill": 1000.0}),
        queues.Sample(2, "drain-batch", "quorum", {"drain_b": 1600.0, "fill": 2500.0}),
        queues.Sample(3, "drain-batch", "classic", {"drain_b": 2500.0, "fill": 1500.0}),
        queues.Sample(3, "drain-batch", "quorum", {"drain_b": 2000.0, "fill": 2000.0}),
        queues.Sample(1, "intake", "classic", {"single_p99": 40.0, "errors": 0.0}),
        queues.Sample(1, "intake", "quorum", {"single_p99": 60.0, "errors": 2.0}),
        queues.Sample(2, "intake", "classic", {"single_p99": 50.0, "errors": 1.0}),
        queues.Sample(2, "intake", "quorum", {"single_p99": 100.0, "errors": 1.0}),
    ]


def test_summary_gives_medians_the_ratio_of_medians_and_the_ratio_of_each_round():
    rows = {r.figure.key: r for r in queues.summarize(_samples(), ("classic", "quorum"), 32)}
    assert set(rows) == {"drain_b", "fill", "single_p99", "errors"}  # only figures measured
    drain = rows["drain_b"]
    assert drain.per_type == {"classic": 2500.0, "quorum": 1600.0}
    assert drain.rounds == {"classic": [3000.0, 2000.0, 2500.0],
                            "quorum": [1500.0, 1600.0, 2000.0]}
    assert drain.ratio == pytest.approx(0.64)
    assert drain.paired == pytest.approx([0.5, 0.8, 0.8])
    p99 = rows["single_p99"]
    assert p99.per_type == {"classic": 45.0, "quorum": 80.0}  # median of two: their mean
    assert p99.paired == pytest.approx([1.5, 2.0])
    errors = rows["errors"]  # a count: summed over the rounds, not a median
    assert errors.per_type == {"classic": 1.0, "quorum": 3.0}


def test_a_ratio_with_nothing_to_divide_by_is_not_a_number():
    samples = [queues.Sample(1, "intake", t, {"errors": 0.0}) for t in ("classic", "quorum")]
    (row,) = queues.summarize(samples, ("classic", "quorum"), 32)
    assert math.isnan(row.ratio) and math.isnan(row.paired[0])
    assert "| 0 | 0 | n/a | n/a | 0 | 0 |" in queues.render_rows([row], ("classic", "quorum"))


def test_table_shows_each_type_the_ratio_and_the_rounds(tmp_path):
    cfg = Config(sections=("queues",), amqp_url="", model_dir=tmp_path, workdir=tmp_path,
                 command="python loadtest/bench.py --sections queues", queue_rounds=3)
    text = queues.render(_samples(), cfg)
    assert "| figure | classic (median) | quorum (median) | quorum / classic | per round |" \
        in text
    assert ("| drain items/s, micro-batch (32), 1 worker (higher is better) | 2,500/s | "
            "1,600/s | 0.64× | 0.50×, 0.80×, 0.80× | 3,000/s, 2,000/s, 2,500/s | "
            "1,500/s, 1,600/s, 2,000/s |") in text
    assert "| intake single p99 (lower is better) | 45.0 ms | 80.0 ms | 1.78× |" in text
    assert "3 rounds" in text and "one RabbitMQ node" in text


def test_the_check_refuses_a_queue_of_the_other_type():
    def lister() -> dict[str, str]:
        return {"p.text": "classic"}

    assert queues.check_type(lister, "p", "classic") == "classic"
    with pytest.raises(RuntimeError, match=r"p\.text is a classic queue"):
        queues.check_type(lister, "p", "quorum")
    with pytest.raises(RuntimeError, match="missing"):
        queues.check_type(lister, "other", "quorum")


def test_queues_runs_only_when_named_and_keeps_the_default_sections(tmp_path):
    default = bench.make_config(bench.parse_args([]), tmp_path, tmp_path, [])
    assert default.sections == bench.SECTIONS
    args = bench.parse_args(["--sections", "queues", "--rounds", "3", "--queue-types",
                             "classic,quorum"])
    cfg = bench.make_config(args, tmp_path, tmp_path, [])
    assert cfg.sections == ("queues",)
    assert (cfg.queue_types, cfg.queue_rounds, cfg.queue_cells) \
        == (("classic", "quorum"), 3, ("drain", "intake"))
    with pytest.raises(SystemExit):
        bench.parse_args(["--sections", "queues", "--queue-types", "classic,stream"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--sections", "queues", "--rabbit-cluster"])  # intake: 1 node
