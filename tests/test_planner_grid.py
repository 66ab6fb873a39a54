"""The grid with selection rules: one-trial rows once, deployable rules below coverage, early
stopping cheaper at the same accuracy, and the best deployable answer free of every oracle."""

from __future__ import annotations

import numpy as np
import pytest

from kinetics_cli.catalog import load_catalog
from kinetics_cli.planner.plan import configuration, make_plan
from kinetics_cli.planner.setup import Setup, build_setup, grid_options


@pytest.fixture(scope="module")
def setup() -> Setup:
    # priors only (aime24 would use the bundled measurements, which carry no answers to vote on)
    return build_setup(
        task="aime25",
        catalog=load_catalog(),
        hardware="b200",
        models=["qwen3-8b"],
        options=grid_options(
            attention=["dense,topk,block-topk"],
            kv_budgets=[512],
            gen_limits=[8192, 32768],
            trials=[1, 4, 16],
            selection=["coverage,majority,early-stop"],
        ),
    )


def rows(setup: Setup) -> dict[tuple[int, float, float, str], int]:
    g = setup.grid
    return {(int(g.setting[i]), g.trials[i], g.gen_len[i], g.rule(i)): i for i in range(len(g))}


def test_one_trial_rows_appear_once(setup: Setup) -> None:
    g = setup.grid
    one = g.trials == 1
    assert {g.rule(i) for i in np.flatnonzero(one)} == {"single"}
    # 3 settings x 2 limits one-trial rows; 3 rules x 3 settings x 2 limits x 2 trial counts
    assert int(one.sum()) == 3 * 2 and len(g) == 3 * 2 + 3 * 3 * 2 * 2


def test_rules_against_each_other(setup: Setup) -> None:
    g = setup.grid
    index = rows(setup)
    intensity = setup.pricing.intensity
    for (k, n, limit, rule), i in index.items():
        if rule != "coverage":
            continue
        maj = index[(k, n, limit, "majority")]
        stop = index[(k, n, limit, "early-stop")]
        assert g.accuracy[maj] <= g.accuracy[i] + 1e-12
        assert g.accuracy[stop] == pytest.approx(g.accuracy[maj])
        # the same trials cost the same; early stopping draws fewer, so costs less
        assert g.eflops(intensity)[maj] == pytest.approx(g.eflops(intensity)[i])
        assert g.samples[stop] < n and g.eflops(intensity)[stop] < g.eflops(intensity)[maj]


def test_best_deployable_uses_no_oracle(setup: Setup) -> None:
    for budget in (1e14, 1e15, 1e16, 1e17):
        answer = make_plan(setup.grid, budget, pricing=setup.pricing)
        if answer.best_deployable is None:
            continue
        doc = configuration(setup.grid, answer.best_deployable, setup.pricing)
        assert doc["oracle"] is False and doc["attention"] != "topk"
        assert doc["selection"] in ("single", "majority", "early-stop")
        assert answer.best is not None
        assert doc["accuracy"] <= setup.grid.accuracy[answer.best] + 1e-12
