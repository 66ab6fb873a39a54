"""tools/curve_baseline.py: the non-parametric leave-one-size-out baselines and the oracle, on
small hand-made runs with the arithmetic shown; and the validate_priors flags that print them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from curve_baseline import (  # noqa: E402
    extended,
    oracle_errors,
    oracle_summary,
    predict,
)
from prior_fit import Run  # noqa: E402
from test_tools_validate_priors import validate  # noqa: E402


def _run(model: str, correct: list[int], n: int = 1, attention: str = "dense") -> Run:
    """A run of len(correct) problems, n samples each, `correct` of them right."""
    c = np.array(correct)
    budget = None if attention == "dense" else 128.0
    return Run(
        model=model,
        attention=attention,
        budget=budget,
        block_size=None,
        problems=np.arange(c.size),
        n=np.full(c.size, n),
        c=c,
        lengths=np.full((c.size, n), 1000.0),
    )


# 10 problems, one sample each: pass@1 is the share correct
LOW = _run("qwen3-0.6b", [1, 1] + [0] * 8)  # 0.2
HIGH = _run("qwen3-8b", [1] * 8 + [0, 0])  # 0.8
HELD = _run("qwen3-1.7b", [1] * 5 + [0] * 5)  # its own counts are never used by predict


def test_neighbours_interpolate_linearly_in_logit_and_log_parameters() -> None:
    # logit 0.2 = -ln 4 = -1.3863, logit 0.8 = +1.3863; 1.7B sits at
    # w = ln(1.7 / 0.6) / ln(8.2 / 0.6) = 1.0415 / 2.6149 = 0.3983 of the way in ln(parameters):
    # -1.3863 + 0.3983 * 2.7726 = -0.2820, expit = 0.4300
    pred = predict([LOW, HIGH, HELD], HELD, "neighbours")
    assert pred is not None and pred.shape == (1,)
    assert pred[0] == pytest.approx(0.4300, abs=1e-4)


def test_neighbours_hold_the_nearest_value_past_the_ends() -> None:
    held = _run("qwen3-32b", [0] * 10)
    pred = predict([LOW, HIGH, held], held, "neighbours")
    assert pred is not None and pred[0] == pytest.approx(0.8)


def test_smooth_extrapolates_the_line() -> None:
    # two points: the line through them, at 32.8B: -1.3863 + 2.7726 * ln(32.8/0.6) / ln(8.2/0.6)
    # = -1.3863 + 2.7726 * 4.0011 / 2.6149 = 2.8561, expit = 0.9457
    held = _run("qwen3-32b", [0] * 10)
    pred = predict([LOW, HIGH, held], held, "smooth")
    assert pred is not None and pred[0] == pytest.approx(0.9457, abs=1e-4)


def test_anchor_puts_pass1_at_the_published_figure() -> None:
    pass1 = {"qwen3-0.6b": 0.1, "qwen3-1.7b": 0.37, "qwen3-8b": 0.9}
    pred = predict([LOW, HIGH, HELD], HELD, "neighbours", pass1=pass1)
    assert pred is not None and pred[0] == pytest.approx(0.37)


def test_pass1_axis_places_sizes_at_their_published_pass1() -> None:
    # the held-out size halfway between the others in logit pass@1, anchored at its own figure:
    # only the growth in N is interpolated, and with one trial there is none
    pass1 = {"qwen3-0.6b": 0.2, "qwen3-1.7b": 0.5, "qwen3-8b": 0.8}
    pred = predict([LOW, HIGH, HELD], HELD, "neighbours", axis="pass1", pass1=pass1)
    assert pred is not None and pred[0] == pytest.approx(0.5)


def test_sparse_setting_moves_by_the_other_sizes_sparse_minus_dense() -> None:
    # both other sizes lose the same 1.3863 in logit at top-k 128 (0.8 -> 0.5, 0.2 -> 0.0588):
    # the held-out prediction is its dense prediction moved by the same amount
    low_sparse = _run("qwen3-0.6b", [1] * 2 + [0] * 32, attention="topk")  # 2 / 34 = 0.0588
    high_sparse = _run("qwen3-8b", [1] * 5 + [0] * 5, attention="topk")  # 0.5
    held = _run("qwen3-1.7b", [0] * 10, attention="topk")
    runs = [LOW, HIGH, low_sparse, high_sparse, held]
    dense = predict(runs, HELD, "neighbours")
    sparse = predict(runs, held, "neighbours")
    assert dense is not None and sparse is not None
    expected = 1.0 / (1.0 + np.exp(-(np.log(dense[0] / (1.0 - dense[0])) - np.log(4.0))))
    assert sparse[0] == pytest.approx(expected, abs=1e-3)


def test_a_setting_no_other_size_ran_is_not_predicted() -> None:
    held = _run("qwen3-1.7b", [0] * 10, attention="topk")
    assert predict([LOW, HIGH, held], held, "neighbours") is None


def test_a_short_curve_continues_with_the_nearest_long_curves_increments() -> None:
    long = np.linspace(0.0, 3.1, 32)  # logit increments of 0.1 per trial
    short = np.array([1.0, 1.5])
    out = extended({"qwen3-8b": long, "qwen3-32b": short})
    # N = 3: 1.5 + (long[2] - long[1]) = 1.6; N = 32: 1.5 + (3.1 - 0.1) = 4.5
    assert out["qwen3-32b"].shape == (32,)
    assert out["qwen3-32b"][2] == pytest.approx(1.6)
    assert out["qwen3-32b"][-1] == pytest.approx(4.5)
    assert np.array_equal(out["qwen3-8b"], long)


def test_oracle_with_certain_problems_makes_no_error() -> None:
    # plug-in rates c / n of 0 or 1 leave nothing to sample: the measured curve is the expectation
    run = _run("qwen3-8b", [4, 0, 4, 4], n=4)
    errors = oracle_errors([run], replicates=50, plug_in=True)[run.label]
    assert errors.shape == (50, 4) and np.all(errors == 0.0)
    summary = oracle_summary([errors])
    assert summary["worst_p95"] == 0.0 and summary["p_both"] == 1.0


def test_oracle_noise_is_centred_and_grows_with_uncertain_problems() -> None:
    run = _run("qwen3-8b", [16] * 30, n=32)  # every problem at p = 1/2
    errors = oracle_errors([run], replicates=2000, plug_in=True)[run.label]
    # pass@1 is the mean of 960 Bernoulli(1/2): sd 100 * sqrt(0.25 / 960) = 1.61 points
    assert abs(errors[:, 0].mean()) < 0.2
    assert errors[:, 0].std() == pytest.approx(1.61, rel=0.1)


def test_baseline_flag_prints_the_table_and_what_it_cannot_predict() -> None:
    result = validate("--sizes", "qwen3-1.7b", "--baseline", "neighbours-pass1")
    assert result.returncode == 0, result.stderr
    assert "not predicted (no other size ran the setting): qwen3-1.7b block-topk@128" in (
        result.stdout
    )
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("qwen3-1.7b ")]
    assert len(rows) == 1 and rows[0][1] == "8"  # 9 runs, one not predicted


def test_oracle_flag_prints_both_solve_rate_tables() -> None:
    result = validate("--sizes", "qwen3-14b", "--oracle")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("c / n       interpolated") for line in lines)
    assert any(line.startswith("posterior   interpolated") for line in lines)


def test_compare_flag_prints_every_predictor_next_to_the_prior() -> None:
    result = validate("--sizes", "qwen3-14b", "--iterations", "10", "--compare")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("mean / worst |error|"))
    names = lines[header + 1].split()
    assert names[0] == "prior" and "neighbours-pass1" in names and names[-2:] == ["noise", "floor"]
    row = lines[header + 2].split()
    # the size, then mean / worst per predictor: prior, 6 baselines, the noise floor
    assert row[0] == "qwen3-14b" and len(row) == 1 + 3 * 8
    assert any(line.startswith("the prior's worst run, qwen3-14b") for line in lines)
