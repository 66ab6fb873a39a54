"""The planner's grid costs and answers are those it gave before its performance rework.

Accuracies come from a hand-written source and times from a hand-written accelerator
(regression_cases.py), so bundled accuracy data and profiles can change without touching this.
Costs per configuration: 1e-12 relative (see test_engine_regression.py for why); which
configurations exist, their accuracies, the plan's answers and the frontiers: exactly.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from regression_cases import GOLDEN, planner_results

from kinetics_cli.catalog import load_catalog

PINNED = json.loads(GOLDEN.read_text(encoding="utf-8"))["planner"]
COSTS = ("compute_flops", "memory_bytes", "seconds", "compute_seconds")


@pytest.fixture(scope="module")
def results() -> dict[str, dict]:
    return planner_results(load_catalog())


@pytest.mark.parametrize("source", sorted(PINNED))
def test_grid_costs_are_unchanged(results: dict[str, dict], source: str) -> None:
    got, want = results[source], PINNED[source]
    for name in ("setting", "trials", "gen_len", "accuracy", "params"):
        assert got[name] == want[name], name
    for name in COSTS:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=0, err_msg=name)


@pytest.mark.parametrize("source", sorted(PINNED))
def test_plan_answers_and_frontiers_are_unchanged(results: dict[str, dict], source: str) -> None:
    got, want = results[source], PINNED[source]
    assert got["plans"] == want["plans"]
    assert got["frontier"] == want["frontier"]
    assert got["frontier_per_group"] == want["frontier_per_group"]
