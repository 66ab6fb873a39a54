"""The published throughput points the serving benchmark checks: every row resolves, carries a
source, and is predicted under every mode its profile provides (values are printed by
benchmarks/bench_serving.py, not asserted)."""

from __future__ import annotations

import importlib.util
import math
import sys
from dataclasses import replace
from pathlib import Path

from kinetics_cli.catalog import load_catalog

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_serving.py"


def load_script():
    spec = importlib.util.spec_from_file_location("bench_serving", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_every_point_resolves_and_cites_its_source():
    bench = load_script()
    points = bench.read_points(bench.DEFAULT_CSV)
    assert len(points) >= 60
    catalog = load_catalog()
    for p in points:
        catalog.models.get(p.model)
        catalog.hardware.get(p.hardware)
        assert p.source.startswith("github.com/") and p.published > 0
    assert {p.moe for p in points} == {True, False}


def test_script_predicts_published_points():
    bench = load_script()
    points = bench.read_points(bench.DEFAULT_CSV)
    for p in (points[0], points[-1]):
        for mode in ("datasheet", "default"):
            value, batch, note = bench.predict(p, mode)
            assert value is not None and math.isfinite(value) and value > 0, note
            assert batch is not None and batch >= 1
        value, _, note = bench.predict(p, "calibrated")
        assert value is None and "no [calibration] table" in note


def test_every_point_states_its_layout_and_the_prediction_uses_it():
    bench = load_script()
    points = bench.read_points(bench.DEFAULT_CSV)
    # attention data-parallel exactly on the multi-GPU MoE runs (the note cites why); never on
    # dense or single-GPU runs, where there is nothing to split
    for p in points:
        assert p.attention_dp == (p.moe and p.tp > 1), (p.model, p.hardware, p.tp)
    split = next(p for p in points if p.attention_dp)
    flipped = replace(split, attention_dp=False)
    as_published, _, note = bench.predict(split, "default")
    other, _, other_note = bench.predict(flipped, "default")
    assert as_published is not None and other is not None, (note, other_note)
    # attention tensor-parallel replicates Qwen3's 4 KV heads over 8 GPUs and puts every
    # sequence on one scheduler: a different answer, so the column is read
    assert not math.isclose(as_published, other, rel_tol=1e-3)
