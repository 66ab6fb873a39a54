"""report.roofline: the step's table title, the plot's label clusters, and the plot itself
(every operator's share of the step, the ones without FLOPs included)."""

from __future__ import annotations

from pathlib import Path

import engine_catalog
import pytest

from kinetics_cli.engine.roofline import decode_step
from kinetics_cli.report.roofline import _clusters, describe_step, roofline_plot


def test_clusters_group_points_within_a_distance_on_both_axes() -> None:
    points = [(1.0, 1e12, "linear"), (1.2, 1.2e12, "linear"), (8.0, 8e12, "attention")]
    # 1.2 is within 0.2 decades of 1.0 on both axes (log10 1.2 = 0.079); 8 is not (0.9)
    assert _clusters(points, 0.2) == [[0, 1], [2]]


def test_describe_step_writes_token_counts_with_separators() -> None:
    gqa, gpu = engine_catalog.card("tiny-gqa"), engine_catalog.hardware("tiny-gpu")
    report = decode_step(gqa, gpu, batch=2, context=100, attention="topk", kv_budget=50)
    assert describe_step(report) == ("batch 2, context 100", "topk (KV budget 50)")
    report = decode_step(gqa, gpu, batch=1, context=16384)
    assert describe_step(report) == ("batch 1, context 16,384", "dense")


def test_plot_shows_every_operators_share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bar chart beside the roofline lists every operator with time, the all-reduce (no
    FLOPs, so off the log axes) included."""
    pytest.importorskip("matplotlib")
    moe, gpu = engine_catalog.card("tiny-moe"), engine_catalog.hardware("tiny-gpu")
    report = decode_step(moe, gpu, batch=4, context=100, tp=2)
    shown: list[str] = []
    import matplotlib.axes

    original = matplotlib.axes.Axes.set_yticks

    def record(self, ticks, labels=None, **kw):  # type: ignore[no-untyped-def]
        shown.extend(labels or [])
        return original(self, ticks, labels, **kw)

    monkeypatch.setattr(matplotlib.axes.Axes, "set_yticks", record)
    path = roofline_plot(report, tmp_path / "step.png")
    assert path.stat().st_size > 1000
    timed = [op for op in report.operators if op.seconds > 0]
    assert len(shown) == len(timed)
    assert any("all-reduce" in label and "no FLOPs" in label for label in shown)
