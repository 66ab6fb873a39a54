"""The measured serving-power runs: every row cites its source, and the profiles' [serving_power]
figures are the benchmark's recomputation from them (benchmarks/bench_power.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from kinetics_cli.catalog import load_catalog

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_power.py"


def load_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_power", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_csv_cites_its_commit_and_one_run_is_hand_checked() -> None:
    bench = load_script()
    header = bench.DEFAULT_CSV.read_text().splitlines()[1]
    assert "github.com/ml-energy/benchmark@b10121d51c68c3dd22daa8c799e4415445a25040" in header
    runs = bench.read_runs()
    assert len(runs) == 314
    (run,) = [
        r
        for r in runs
        if r.gpu == "H100-80GB-HBM3"
        and r.model == "meta-llama/Meta-Llama-3.1-8B-Instruct"
        and r.max_num_seqs == 128
    ]
    # 63.1227 J per request x 2,152.52 output tokens/s / 483.135 tokens per request / 1 GPU
    assert run.watts_per_gpu == pytest.approx(63.1227 * 2152.52 / 483.135, rel=1e-5)
    assert run.fraction == pytest.approx(281.23 / 700, rel=1e-4)


def test_profiles_state_the_benchmarks_figures() -> None:
    bench = load_script()
    figures = bench.summary(bench.read_runs())
    catalog = load_catalog()
    for gpu, (name, tdp) in bench.PARTS.items():
        profile = catalog.hardware.get(name).spec
        sp = profile.serving_power
        assert sp is not None and profile.tdp_watts == tdp
        s = figures[gpu]
        assert sp.fraction_of_tdp == round(s["fraction"], 2)
        assert (sp.low, sp.high) == (round(s["low"], 2), round(s["high"], 2))
        assert sp.held_out_error == round(s["lomo_mean"], 2)
        assert sp.runs == s["runs"]
        assert sp.low <= sp.fraction_of_tdp <= sp.high


def test_held_out_error_uses_only_the_other_models() -> None:
    """Leave-one-model-out: with two models at fractions 0.2 and 0.4, each is predicted by the
    other's, so the errors are |0.4 - 0.2| / 0.2 = 1.0 and |0.2 - 0.4| / 0.4 = 0.5."""
    bench = load_script()
    runs = [
        bench.Run("g", "chat", "a", 1, 1, 64, 140.0, 0.2),
        bench.Run("g", "chat", "b", 1, 1, 64, 280.0, 0.4),
    ]
    assert sorted(bench.held_out_errors(runs)) == pytest.approx([0.5, 1.0])
    assert bench.fraction_of_tdp(runs) == pytest.approx(0.3)
