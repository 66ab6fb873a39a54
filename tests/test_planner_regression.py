"""The planner's grid costs and answers are those it gave before its performance rework.

Accuracies come from a hand-written source and times from a hand-written accelerator
(regression_cases.py), so bundled accuracy data and profiles can change without touching this.

- Costs per configuration: 1e-12 relative (see test_engine_regression.py for why).
- Which configurations exist and their accuracies: exactly.
- The plan's answers and the frontiers: exactly, computed from the pinned costs. From the
  recomputed costs they can differ only where two configurations cost the same in exact
  arithmetic (dense and top-k with a budget beyond the context, at N = 1) and the last bit, which
  the order of the arithmetic decides, breaks the tie; test_answers_differ_only_at_exact_ties
  checks that this is the only kind of difference.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from regression_cases import GOLDEN, HARDWARE, answers, planner_grids

from kinetics_cli.catalog import load_catalog
from kinetics_cli.planner.grid import Grid

PINNED = json.loads(GOLDEN.read_text(encoding="utf-8"))["planner"]
COSTS = ("compute_flops", "memory_bytes", "seconds", "compute_seconds")


@pytest.fixture(scope="module")
def grids() -> dict[str, Grid]:
    return planner_grids(load_catalog())


@pytest.mark.parametrize("source", sorted(PINNED))
def test_grid_costs_are_unchanged(grids: dict[str, Grid], source: str) -> None:
    grid, want = grids[source], PINNED[source]
    for name in ("setting", "trials", "gen_len", "accuracy"):
        assert getattr(grid, name).tolist() == want[name], name
    assert list(grid.params) == want["params"]
    for name in COSTS:
        np.testing.assert_allclose(getattr(grid, name), want[name], rtol=1e-12, atol=0)


@pytest.mark.parametrize("source", sorted(PINNED))
def test_answers_on_the_pinned_costs_are_unchanged(grids: dict[str, Grid], source: str) -> None:
    pinned = replace(grids[source], **{n: np.array(PINNED[source][n]) for n in COSTS})
    got, want = answers(pinned), PINNED[source]
    assert got["plans"] == want["plans"]
    assert got["frontier"] == want["frontier"]
    assert got["frontier_per_group"] == want["frontier_per_group"]


@pytest.mark.parametrize("source", sorted(PINNED))
def test_answers_differ_only_at_exact_ties(grids: dict[str, Grid], source: str) -> None:
    """Every frontier point gained or lost has a twin of the same (pinned) cost to 1e-12."""
    got, want = answers(grids[source]), PINNED[source]
    pinned = PINNED[source]
    cost = np.array(pinned["compute_flops"]) + HARDWARE.intensity * np.array(pinned["memory_bytes"])
    for key in ("frontier", "frontier_per_group"):
        for i in set(got[key]) ^ set(want[key]):
            twins = np.flatnonzero(np.isclose(cost, cost[i], rtol=1e-12, atol=0))
            assert twins.size > 1, (key, i)
