"""tools/validate_priors.py (leave one model size out) runs and prints its table; the figures
themselves are documented in docs/accuracy-priors.md, not asserted here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def validate(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """tools/validate_priors.py with `args`, its output captured."""
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "validate_priors.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def test_leave_one_size_out_runs_on_a_small_subset_and_prints():
    result = validate("--sizes", "qwen3-14b", "--iterations", "10")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "mean |err|" in out and "worst |err|" in out
    rows = [line for line in out.splitlines() if line.startswith("qwen3-14b")]
    assert len(rows) == 1 and len(rows[0].split()) >= 6  # held out, runs, points, mean, worst, bias
    assert "95th percentile |err| dense" in out


def test_unknown_size_is_refused():
    result = validate("--sizes", "qwen3-4b", timeout=120)
    assert result.returncode == 2 and "unknown size 'qwen3-4b'" in result.stderr


def test_noise_floor_prints_both_bootstrap_tables():
    result = validate("--sizes", "qwen3-14b", "--noise-floor")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "samples within each problem" in out and "problems, then samples" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("qwen3-14b")]
    assert len(rows) == 2
    within, both = float(rows[0][3]), float(rows[1][3])
    # resampling the problems as well adds their spread: a larger expected deviation
    assert 0.0 < within < both
